import 'reflect-metadata';
import { createPublicKey, ECDH, sign, webcrypto } from 'node:crypto';
import { createCsr, generateKeyPair, SmartlicError } from '@smartlic/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCsrKey, verifyCsr } from './csr.js';
import { canonicalSpkiJwk, der, ECDSA_SHA256, splitCsr } from './der-template.js';
import { x509 } from './x509.js';

const toDer = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
const toPem = (bytes: Buffer, label = 'CERTIFICATE REQUEST') =>
  `-----BEGIN ${label}-----\n${bytes.toString('base64')}\n-----END ${label}-----\n`;

const NOT_A_CSR = 'The certificate signing request is not valid: it is not a PEM PKCS#10 request.';
const BAD_KEY = 'The certificate signing request is not valid: its public key cannot be read.';
const BAD_SIGNATURE = 'The certificate signing request is not valid: its signature does not verify.';

/** Anything verifyCsr refuses, it refuses with a SmartlicError and one of its messages. */
async function refusal(pem: string): Promise<SmartlicError> {
  const error = await verifyCsr(pem).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SmartlicError);
  const { code, message } = error as SmartlicError;
  if (code === 'UNSUPPORTED_ALGORITHM')
    expect(message).toMatch(
      /^The certificate signing request holds an? .+ key; use ECDSA P-256 \(ES256\) or Ed25519\.$/,
    );
  else
    expect({ code, message }).toEqual({
      code: 'BAD_CSR',
      message: expect.toBeOneOf([NOT_A_CSR, BAD_KEY, BAD_SIGNATURE]),
    });
  return error as SmartlicError;
}

type KeyGenParams = webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams;

async function csrWith(algorithm: KeyGenParams): Promise<string> {
  const keys = await webcrypto.subtle.generateKey(algorithm, false, ['sign', 'verify']);
  const signingAlgorithm = algorithm.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-384' } : algorithm;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=x',
    keys: keys as never,
    signingAlgorithm,
  });
  return csr.toString('pem');
}

describe('verifyCsr', () => {
  it('accepts ECDSA P-256 and Ed25519 requests and returns the key', async () => {
    for (const alg of ['ES256', 'Ed25519'] as const) {
      const pair = generateKeyPair(alg);
      const csr = await verifyCsr(await createCsr(pair, 'CN=device'));
      expect(csr.alg).toBe(alg);
      expect(csr.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
        pair.publicKey.export({ type: 'spki', format: 'der' }),
      );
      expect(Buffer.from(csr.spkiBase64, 'base64')).toEqual(pair.publicKey.export({ type: 'spki', format: 'der' }));
    }
  });

  it('refuses a request whose signature does not verify', async () => {
    const pem = await createCsr(generateKeyPair(), 'CN=device');
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 3]! ^= 1;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----`;
    await expect(verifyCsr(tampered)).rejects.toMatchObject({
      code: 'BAD_CSR',
      message: 'The certificate signing request is not valid: its signature does not verify.',
    });
  });

  it('refuses what is not a CSR', async () => {
    for (const pem of ['-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----', 'hello']) {
      await expect(verifyCsr(pem)).rejects.toMatchObject({ code: 'BAD_CSR' });
    }
  });

  it('refuses keys other than P-256 and Ed25519', async () => {
    const rsa = await csrWith({
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    });
    await expect(verifyCsr(rsa)).rejects.toMatchObject({
      code: 'UNSUPPORTED_ALGORITHM',
      message: expect.stringMatching(/rsa/),
    });
    const p384 = await csrWith({ name: 'ECDSA', namedCurve: 'P-384' });
    await expect(verifyCsr(p384)).rejects.toMatchObject({ code: 'UNSUPPORTED_ALGORITHM' });
  });

  it('reads both PEM labels and surrounding white space, and nothing else around the block', async () => {
    const pair = generateKeyPair('Ed25519');
    const bytes = toDer(await createCsr(pair, 'CN=device'));
    expect((await verifyCsr(`\n  ${toPem(bytes, 'NEW CERTIFICATE REQUEST')}  \n`)).alg).toBe('Ed25519');
    for (const pem of [
      `junk\n${toPem(bytes)}`,
      `${toPem(bytes)}${toPem(bytes)}`,
      toPem(bytes).replace('REQUEST-----\n', 'REQUEST-----\n!'),
    ]) {
      expect((await refusal(pem)).message).toBe(NOT_A_CSR);
    }
  });

  it('refuses DER that is not strict, complete and of the PKCS #10 shape', async () => {
    const bytes = toDer(await createCsr(generateKeyPair(), 'CN=device'));
    const info = bytes.subarray(bytes[1] === 0x81 ? 3 : 2); // the request's contents
    const cases = {
      'indefinite length': Buffer.concat([Buffer.from([0x30, 0x80]), info, Buffer.from([0, 0])]),
      'length not in its shortest form': Buffer.concat([Buffer.from([0x30, 0x82, 0x00, info.length]), info]),
      'length beyond the data': Buffer.concat([Buffer.from([0x30, 0x83, 0x7f, 0xff, 0xff]), info]),
      'a 4-byte length': Buffer.concat([Buffer.from([0x30, 0x84, 0, 0, 0, info.length]), info]),
      'bytes after the request': Buffer.concat([bytes, Buffer.from([0])]),
      truncated: bytes.subarray(0, bytes.length - 1),
      'not a SEQUENCE': Buffer.concat([Buffer.from([0x31]), bytes.subarray(1)]),
      'a fourth part': der(0x30, info, der(0x05)),
      empty: Buffer.alloc(0),
      'a high tag number': Buffer.from([0x1f, 0x81, 0x00]),
    };
    for (const [name, candidate] of Object.entries(cases)) {
      expect({ name, message: (await refusal(toPem(candidate))).message }).toEqual({ name, message: NOT_A_CSR });
    }
  });

  it('refuses a signature algorithm other than the key’s own: ES256 for P-256, Ed25519 for Ed25519', async () => {
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const sha384 = await x509.Pkcs10CertificateRequestGenerator.create({
      name: 'CN=x',
      keys: keys as never,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-384' },
    });
    expect((await refusal(sha384.toString('pem'))).message).toBe(BAD_SIGNATURE);

    // An Ed25519 key whose request claims ecdsa-with-SHA256.
    const ed = splitCsr(toDer(await createCsr(generateKeyPair('Ed25519'), 'CN=device')));
    const claimed = der(0x30, ed.info, ECDSA_SHA256, der(0x03, Buffer.from([0]), ed.signature));
    expect((await refusal(toPem(claimed))).message).toBe(BAD_SIGNATURE);
  });

  it('accepts a compressed P-256 point, and keeps the key as Node writes it', async () => {
    const pair = generateKeyPair('ES256');
    const point = pair.publicKey.export({ type: 'spki', format: 'der' }).subarray(-65);
    const compressed = ECDH.convertKey(point, 'prime256v1', undefined, undefined, 'compressed') as Buffer;
    const ecP256 = Buffer.from('301306072a8648ce3d020106082a8648ce3d030107', 'hex'); // id-ecPublicKey, prime256v1
    const spki = der(0x30, ecP256, der(0x03, Buffer.from([0]), compressed));
    const csr = await verifyCsr(toPem(signedRequest(spki, (info) => sign('sha256', info, pair.privateKey))));
    expect(csr.publicKey.equals(pair.publicKey)).toBe(true);
    expect(csr.spki).toEqual(
      createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'der' }),
    );
  });

  it('fuzz: a request altered anywhere, or random input, is refused with one of its messages', async () => {
    const originals = await Promise.all(
      (['ES256', 'Ed25519'] as const).map(async (alg) => toDer(await createCsr(generateKeyPair(alg), 'CN=device'))),
    );
    const altered = fc
      .record({
        which: fc.constantFrom(0, 1),
        at: fc.nat(),
        how: fc.constantFrom('flip', 'truncate', 'insert', 'delete'),
        byte: fc.integer({ min: 0, max: 255 }),
      })
      .map(({ which, at, how, byte }) => {
        const original = originals[which]!;
        const i = at % original.length;
        if (how === 'truncate') return original.subarray(0, i);
        if (how === 'delete') return Buffer.concat([original.subarray(0, i), original.subarray(i + 1)]);
        if (how === 'insert')
          return Buffer.concat([original.subarray(0, i), Buffer.from([byte]), original.subarray(i)]);
        const copy = Buffer.from(original);
        copy[i]! ^= byte || 1;
        return copy;
      });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          altered,
          fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)),
        ),
        async (bytes) => {
          await refusal(toPem(bytes));
        },
      ),
      { numRuns: 400 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 300 }), async (text) => {
        await refusal(text);
      }),
      { numRuns: 100 },
    );
  });

  it('reads keys in Node’s own SPKI form as JWKs, to the same key, and refuses points off the curve', async () => {
    for (let i = 0; i < 40; i++) {
      const pair = generateKeyPair(i % 2 ? 'Ed25519' : 'ES256');
      const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
      const jwk = canonicalSpkiJwk(spki);
      expect(jwk).toBeDefined();
      const key = createPublicKey({ key: jwk!, format: 'jwk' });
      expect(key.equals(pair.publicKey)).toBe(true);
      expect(key.export({ type: 'spki', format: 'der' })).toEqual(spki);
    }
    // A P-256 request whose point is moved off the curve (last byte of y), signed over correctly.
    const pair = generateKeyPair('ES256');
    const spki = Buffer.from(pair.publicKey.export({ type: 'spki', format: 'der' }));
    spki[spki.length - 1]! ^= 1;
    const off = signedRequest(spki, (info) => sign('sha256', info, pair.privateKey));
    expect((await refusal(toPem(off))).message).toBe(BAD_KEY);
    // A coordinate at or above the field prime is not read as a JWK, and the DER decoder refuses it.
    const big = Buffer.from(spki);
    big.fill(0xff, 27, 59);
    expect(canonicalSpkiJwk(big)).toBeUndefined();
    expect((await refusal(toPem(signedRequest(big, (info) => sign('sha256', info, pair.privateKey))))).message).toBe(
      BAD_KEY,
    );
  });
});

/** A PKCS #10 request for `spki`, signed by `signer` (ES256). */
function signedRequest(spki: Buffer, signer: (info: Buffer) => Buffer): Buffer {
  const name = der(0x30, der(0x31, der(0x30, der(0x06, Buffer.from('550403', 'hex')), der(0x0c, Buffer.from('d')))));
  const info = der(0x30, der(0x02, Buffer.from([0])), name, spki, der(0xa0));
  return der(0x30, info, ECDSA_SHA256, der(0x03, Buffer.from([0]), signer(info)));
}

describe('readCsrKey (registration: the envelope proves possession, ADR 0021)', () => {
  const originals = async () =>
    Promise.all(
      (['ES256', 'Ed25519'] as const).map(async (alg) => toDer(await createCsr(generateKeyPair(alg), 'CN=device'))),
    );

  it('reads the key verifyCsr reads, and does not check the self-signature', async () => {
    for (const bytes of await originals()) {
      const key = await readCsrKey(toPem(bytes));
      const verified = await verifyCsr(toPem(bytes));
      expect({ spki: key.spkiBase64, alg: key.alg }).toEqual({ spki: verified.spkiBase64, alg: verified.alg });
      expect(key.publicKey.equals(verified.publicKey)).toBe(true);
      const broken = Buffer.from(bytes);
      broken[broken.length - 3]! ^= 1;
      expect((await readCsrKey(toPem(broken))).spkiBase64).toBe(verified.spkiBase64);
      expect((await refusal(toPem(broken))).message).toBe(BAD_SIGNATURE);
    }
  });

  it('refuses what is not a strict P-256 or Ed25519 request of the key’s own algorithm, as verifyCsr does', async () => {
    const refusalOf = (pem: string) =>
      readCsrKey(pem).then(
        () => {
          throw new Error('readCsrKey accepted it');
        },
        (error: unknown) => error as SmartlicError,
      );
    const p384 = await csrWith({ name: 'ECDSA', namedCurve: 'P-384' });
    expect((await refusalOf(p384)).code).toBe('UNSUPPORTED_ALGORITHM');
    const ed = splitCsr(toDer(await createCsr(generateKeyPair('Ed25519'), 'CN=device')));
    const claimed = der(0x30, ed.info, ECDSA_SHA256, der(0x03, Buffer.from([0]), ed.signature));
    expect(await refusalOf(toPem(claimed))).toMatchObject({ code: 'BAD_CSR', message: BAD_SIGNATURE });
    for (const pem of ['hello', toPem(Buffer.alloc(0)), `${toPem(Buffer.from([0x30, 0x80]))}`]) {
      expect(await refusalOf(pem)).toMatchObject({ code: 'BAD_CSR', message: NOT_A_CSR });
    }
  });

  it('fuzz: altered requests are refused alike, except a broken self-signature, which only verifyCsr sees', async () => {
    const bytes = await originals();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(0, 1), fc.nat(), fc.integer({ min: 1, max: 255 }), async (which, at, byte) => {
        const copy = Buffer.from(bytes[which]!);
        copy[at % copy.length]! ^= byte;
        const pem = toPem(copy);
        const read = await readCsrKey(pem).catch((error: SmartlicError) => error);
        const verified = await verifyCsr(pem).catch((error: SmartlicError) => error);
        if (read instanceof SmartlicError) {
          expect(verified).toBeInstanceOf(SmartlicError);
          expect({ code: read.code, message: read.message }).toEqual({
            code: (verified as SmartlicError).code,
            message: (verified as SmartlicError).message,
          });
        } else if (verified instanceof SmartlicError) {
          expect(verified.message).toBe(BAD_SIGNATURE);
        } else {
          expect(read.spkiBase64).toBe(verified.spkiBase64);
        }
      }),
      { numRuns: 300 },
    );
  });
});
