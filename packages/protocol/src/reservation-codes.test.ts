import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { SmartlicError } from './errors.js';
import { normalizeSerial, toWebKeys } from './pki.js';
import {
  type AuthorizationPayload,
  authorizationCodeFile,
  checkConfirmationCode,
  checkReturnCode,
  checkTail,
  confirmationCode,
  deriveReservationMacKey,
  encodeAuthorizationCode,
  encodeRequestCode,
  newRequestNonce,
  newReservationKeyPair,
  parseAuthorizationCode,
  parseRequestCode,
  parseReturnCode,
  returnCode,
  verifyAuthorizationCode,
} from './reservation-codes.js';
import { generateKeyPair, type KeyPair, signEnvelope } from './signing.js';

const NOW = Date.UTC(2026, 0, 1);
const UDI = { pid: 'C9300-24UX', sn: 'FCW2134L0RN' };
const SIG = { name: 'ECDSA', hash: 'SHA-256' };

interface Authority {
  rootPem: string;
  signingPem: string;
  signingSerial: string;
  signing: KeyPair;
}

async function makeAuthority(): Promise<Authority> {
  const root = generateKeyPair('ES256');
  const rootCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=test root',
    notBefore: new Date(NOW - 86_400_000),
    notAfter: new Date(NOW + 10 * 365 * 86_400_000),
    keys: (await toWebKeys(root)) as never,
    signingAlgorithm: SIG,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  const signing = generateKeyPair('ES256');
  const keys = await toWebKeys(signing);
  const rootKeys = await toWebKeys(root);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '1a2b',
    subject: 'CN=test signing',
    issuer: rootCert.subject,
    notBefore: new Date(NOW - 86_400_000),
    notAfter: new Date(NOW + 5 * 365 * 86_400_000),
    publicKey: (keys as { publicKey: CryptoKey }).publicKey,
    signingKey: (rootKeys as { privateKey: CryptoKey }).privateKey,
    signingAlgorithm: SIG,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
  });
  return {
    rootPem: rootCert.toString('pem'),
    signingPem: cert.toString('pem'),
    signingSerial: normalizeSerial(cert.serialNumber),
    signing,
  };
}

let authority: Authority;
beforeAll(async () => {
  authority = await makeAuthority();
});

/** A complete exchange: request, authorization (from the authority), MAC keys of both sides. */
function exchange(licenses = [{ tag: 'regid.example.A', count: 3 }]) {
  const device = newReservationKeyPair();
  const nonce = newRequestNonce();
  const request = encodeRequestCode({ udi: UDI, nonce, devicePublicKey: device.publicKey });
  const parsed = parseRequestCode(request);
  const reservationId = randomUUID();
  const authorityKey = newReservationKeyPair();
  const payload: AuthorizationPayload = {
    version: 1,
    kind: 'reservation-authorization',
    udi: parsed.udi,
    requestNonce: parsed.nonce,
    reservationId,
    instanceId: randomUUID(),
    sequence: 1,
    licenses,
    plr: false,
    issuedAt: NOW,
    authorityKey: authorityKey.publicKey,
  };
  const auth = encodeAuthorizationCode(
    signEnvelope(payload, authority.signing.privateKey, authority.signingSerial),
    authority.signingPem,
  );
  const authorityMac = deriveReservationMacKey(authorityKey.privateKeyPem, parsed.devicePublicKey, reservationId);
  const deviceMac = deriveReservationMacKey(device.privateKeyPem, authorityKey.publicKey, reservationId);
  const subject = { reservationId, sequence: 1, udi: UDI };
  return { request, auth, authorityMac, deviceMac, subject, payload };
}

describe('reservation codes', () => {
  it('round-trips a request code that shows the UDI', () => {
    const { request } = exchange();
    expect(request).toMatch(/^R1-C9300-24UX:FCW2134L0RN-([1-9A-Za-z]{8}-){7}[1-9A-Za-z]{3}$/);
    expect(parseRequestCode(` ${request.slice(0, 20)}\n${request.slice(20)} `).udi).toEqual(UDI);
  });

  it('signs an authorization code the device verifies, also from its file form', () => {
    const { auth, payload } = exchange();
    const code = parseAuthorizationCode(auth);
    verifyAuthorizationCode(code, [authority.rootPem], NOW);
    expect(code.payload).toEqual(payload);
    const file = authorizationCodeFile(auth);
    expect(file).toMatch(/^# smartlic license reservation authorization code v1/);
    expect(parseAuthorizationCode(file).digest).toBe(code.digest);
    expect(auth.split('\n').every((line) => line.length <= 64)).toBe(true);
    expect(() => verifyAuthorizationCode(code, [authority.signingPem.replace('MII', 'MIJ')], NOW)).toThrow(
      SmartlicError,
    );
  });

  it('derives the same MAC key on both sides; confirmation and return codes verify', () => {
    const { authorityMac, deviceMac, subject } = exchange();
    expect(deviceMac.equals(authorityMac)).toBe(true);
    const confirmation = confirmationCode(deviceMac, subject);
    expect(confirmation).toMatch(/^C1-([1-9A-Za-z]{6}-){4}[1-9A-Za-z]{3}$/);
    expect(checkConfirmationCode(confirmation, authorityMac, subject)).toBe(true);
    expect(checkConfirmationCode(confirmation, authorityMac, { ...subject, sequence: 2 })).toBe(false);
    const ret = returnCode(deviceMac, 'return', subject);
    expect(ret).toMatch(/^([1-9A-Za-z]{6}-){9}[1-9A-Za-z]{3}$/);
    const parsed = parseReturnCode(ret);
    expect(parsed).toMatchObject({ kind: 'return', sequence: 1 });
    expect(checkReturnCode(parsed, authorityMac, subject)).toBe(true);
    expect(checkReturnCode(parsed, authorityMac, { ...subject, udi: { pid: 'X', sn: 'Y' } })).toBe(false);
  });

  it('the check tail catches every single substitution and adjacent transposition (exhaustive over samples)', () => {
    const { request, auth, deviceMac, subject } = exchange();
    const samples = [
      request,
      confirmationCode(deviceMac, subject),
      returnCode(deviceMac, 'return', subject),
      auth.replaceAll('\n', '').slice(0, 300),
    ].map((c, i) => (i === 3 ? `${c}-${checkTail(c)}` : c));
    let checked = 0;
    for (const code of samples) {
      const text = code.slice(0, -4);
      const tail = code.slice(-3);
      expect(checkTail(text)).toBe(tail);
      for (let i = 0; i < text.length; i++) {
        for (let c = 33; c <= 126; c++) {
          const ch = String.fromCharCode(c);
          if (ch === text[i]) continue;
          expect(checkTail(text.slice(0, i) + ch + text.slice(i + 1))).not.toBe(tail);
          checked++;
        }
        const a = text[i];
        const b = text[i + 1];
        if (b !== undefined && a !== b) {
          expect(checkTail(text.slice(0, i) + b + a + text.slice(i + 2))).not.toBe(tail);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(40_000);
  });
});

type Mutation = (code: string, r: () => number) => string;
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0OIl-_+/=:';
const pick = (s: string, r: () => number): string => s[Math.floor(r() * s.length)] ?? 'x';
const at = (code: string, r: () => number): number => Math.floor(r() * code.length);

/** Every kind of damage a code meets when typed, read aloud or copied badly. */
const MUTATIONS: Record<string, Mutation> = {
  substitute: (c, r) => {
    const i = at(c, r);
    return c.slice(0, i) + pick(ALPHABET, r) + c.slice(i + 1);
  },
  delete: (c, r) => {
    const i = at(c, r);
    return c.slice(0, i) + c.slice(i + 1);
  },
  insert: (c, r) => {
    const i = at(c, r);
    return c.slice(0, i) + pick(ALPHABET, r) + c.slice(i);
  },
  transpose: (c, r) => {
    const i = Math.min(at(c, r), c.length - 2);
    return c.slice(0, i) + c[i + 1] + c[i] + c.slice(i + 2);
  },
  truncate: (c, r) => c.slice(0, Math.floor(r() * (c.length - 1))),
  case: (c, r) => {
    const i = at(c, r);
    const ch = c[i] ?? '';
    const flipped = ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase();
    return c.slice(0, i) + flipped + c.slice(i + 1);
  },
  whitespaceForChar: (c, r) => {
    const i = at(c, r);
    return `${c.slice(0, i)} ${c.slice(i + 1)}`;
  },
  double: (c, r) => MUTATIONS.substitute!(MUTATIONS.substitute!(c, r), r),
};

/** The mutation of `code` with whitespace removed, or undefined when it is no change at all. */
function mutate(code: string, name: string, r: () => number): string | undefined {
  const out = MUTATIONS[name]!(code, r);
  return out.replace(/\s+/g, '') === code.replace(/\s+/g, '') ? undefined : out;
}

describe('reservation code fuzz (protocol parsers)', () => {
  it('never accepts a mutated code of any kind, and fails only with RESERVATION_CODE_INVALID', () => {
    const { request, auth, authorityMac, subject } = exchange([
      { tag: 'regid.example.A', count: 3 },
      { tag: 'regid.example.B', count: 1 },
    ]);
    const confirmation = confirmationCode(authorityMac, subject);
    const ret = returnCode(authorityMac, 'return', subject);
    const accepts: Record<string, (text: string) => boolean> = {
      request: (t) => {
        parseRequestCode(t);
        return true;
      },
      authorization: (t) => {
        verifyAuthorizationCode(parseAuthorizationCode(t), [authority.rootPem], NOW);
        return true;
      },
      confirmation: (t) => checkConfirmationCode(t, authorityMac, subject),
      return: (t) => checkReturnCode(parseReturnCode(t), authorityMac, subject),
    };
    const originals: Record<string, string> = { request, authorization: auth, confirmation, return: ret };
    let tried = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(originals)),
        fc.constantFrom(...Object.keys(MUTATIONS)),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        (kind, mutation, seed) => {
          let s = seed;
          const r = () => {
            s = (s * 48271) % 2147483647;
            return s / 2147483647;
          };
          const original = originals[kind]!;
          const text = mutate(original, mutation, r);
          if (text === undefined) return;
          tried++;
          let accepted = false;
          try {
            accepted = accepts[kind]!(text);
          } catch (error) {
            expect(error).toBeInstanceOf(SmartlicError);
            expect((error as SmartlicError).code).toBe('RESERVATION_CODE_INVALID');
          }
          expect(accepted, `${kind} ${mutation}: ${text}`).toBe(false);
        },
      ),
      { numRuns: 12_000, seed: 20260105 },
    );
    expect(tried).toBeGreaterThan(10_000);
  });
});
