import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCsr, DAY, generateKeyPair, ManualClock, SmartlicError } from '@smartlic/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test-support/temp-dir.js';
import { type AuthorityPki, loadOrCreatePki } from './authority-pki.js';
import { BACKDATE_MS, createIdCertificate } from './certificate-factory.js';
import { type VerifiedCsr, verifyCsr } from './csr.js';
import { children, readOne } from './der-template.js';
import { type IdCertificateSubject, issueIdCertificate } from './id-certificate-issuer.js';
import { x509 } from './x509.js';

const pemDer = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');

/** The TBSCertificate of a PEM certificate, and its serial's offset within. */
function tbsOf(pem: string): { tbs: Buffer; serial: { start: number; end: number } } {
  const cert = pemDer(pem);
  const [tbsElement] = children(cert, readOne(cert, 0x30));
  const tbs = cert.subarray(tbsElement!.offset, tbsElement!.end);
  const serial = children(tbs, readOne(tbs, 0x30))[1]!;
  return { tbs, serial };
}

/** The TBS of `reference` with the serial of `fast`: what the fast path must have written byte for byte. */
function referenceWithSerialOf(reference: string, fast: string): Buffer {
  const ref = tbsOf(reference);
  const mine = tbsOf(fast);
  expect(mine.serial).toEqual(ref.serial);
  return Buffer.concat([
    ref.tbs.subarray(0, ref.serial.start),
    mine.tbs.subarray(mine.serial.start, mine.serial.end),
    ref.tbs.subarray(ref.serial.end),
  ]);
}

describe('ID certificates from the DER template', () => {
  const clock = new ManualClock();
  let dir: ReturnType<typeof makeTempDir>;
  let pki: AuthorityPki;
  const csrs: Record<'ES256' | 'Ed25519', VerifiedCsr> = {} as never;
  beforeAll(async () => {
    dir = makeTempDir();
    pki = await loadOrCreatePki({ dataDir: dir.path, clock });
    for (const alg of ['ES256', 'Ed25519'] as const) {
      csrs[alg] = await verifyCsr(await createCsr(generateKeyPair(alg), 'CN=device'));
    }
  });
  afterAll(() => dir.remove());

  /** The fast path and the @peculiar/x509 path for the same inputs. */
  async function both(csr: VerifiedCsr, subject: IdCertificateSubject, now: number) {
    const fast = await issueIdCertificate(pki, csr, subject, now);
    const reference = await createIdCertificate(
      { ...subject, publicKey: new x509.PublicKey(csr.spki), notBefore: now - BACKDATE_MS, notAfter: fast.expiresAt },
      new x509.X509Certificate(pki.signingCertPem),
      pki.signingWebKey,
    );
    return { fast, reference: reference.toString('pem') };
  }

  for (const alg of ['ES256', 'Ed25519'] as const) {
    it(`${alg} device key: field for field the certificate @peculiar/x509 makes; only serial and signature differ`, async () => {
      const subject = { instanceId: crypto.randomUUID(), pid: 'C9300-24UX', sn: 'FCW2134L0RN', domain: 'acme.example' };
      const { fast, reference } = await both(csrs[alg], subject, clock.now());
      expect(tbsOf(fast.pem).tbs).toEqual(referenceWithSerialOf(reference, fast.pem));

      const mine = new x509.X509Certificate(fast.pem);
      const theirs = new x509.X509Certificate(reference);
      expect(mine.subject).toBe(theirs.subject);
      expect(mine.issuer).toBe(theirs.issuer);
      expect(mine.notBefore).toEqual(theirs.notBefore);
      expect(mine.notAfter).toEqual(theirs.notAfter);
      expect(mine.extensions.map((e) => [e.type, e.critical, Buffer.from(e.value).toString('hex')])).toEqual(
        theirs.extensions.map((e) => [e.type, e.critical, Buffer.from(e.value).toString('hex')]),
      );
      expect(Buffer.from(mine.publicKey.rawData)).toEqual(Buffer.from(theirs.publicKey.rawData));
      expect(mine.signatureAlgorithm).toEqual(theirs.signatureAlgorithm);
      expect(mine.serialNumber.toLowerCase()).toBe(fast.serial);
      expect(Buffer.from(mine.signature)).not.toEqual(Buffer.from(theirs.signature));
      expect(
        await mine.verify({ publicKey: new x509.X509Certificate(pki.signingCertPem).publicKey, signatureOnly: true }),
      ).toBe(true);

      const cert = new X509Certificate(fast.pem);
      const signing = new X509Certificate(pki.signingCertPem);
      expect(cert.checkIssued(signing)).toBe(true);
      expect(cert.verify(signing.publicKey)).toBe(true);
      expect(cert.publicKey.equals(csrs[alg].publicKey)).toBe(true);
      expect(cert.subject.split('\n')).toEqual([
        `CN=${subject.instanceId}`,
        'serialNumber=PID:C9300-24UX SN:FCW2134L0RN',
        'O=acme.example',
      ]);
      expect(Date.parse(cert.validTo)).toBe(clock.now() + 360 * DAY);
      expect(fast.pem).toMatch(/^-----BEGIN CERTIFICATE-----\n(?:[A-Za-z0-9+/=]{1,64}\n)+-----END CERTIFICATE-----$/);
    });
  }

  it('writes GeneralizedTime from 2050 on, as RFC 5280 and the library do', async () => {
    // Issued a day before 2050: notBefore is a UTCTime, notAfter (capped by the signing certificate) a GeneralizedTime.
    const far = new ManualClock(Date.UTC(2049, 11, 31, 0, 0, 0));
    const farDir = makeTempDir();
    try {
      const farPki = await loadOrCreatePki({ dataDir: farDir.path, clock: far });
      const csr = csrs.ES256;
      const subject = { instanceId: crypto.randomUUID(), pid: 'P', sn: 'S', domain: 'acme.example' };
      const fast = await issueIdCertificate(farPki, csr, subject, far.now());
      const reference = await createIdCertificate(
        {
          ...subject,
          publicKey: new x509.PublicKey(csr.spki),
          notBefore: far.now() - BACKDATE_MS,
          notAfter: fast.expiresAt,
        },
        new x509.X509Certificate(farPki.signingCertPem),
        farPki.signingWebKey,
      );
      expect(tbsOf(fast.pem).tbs).toEqual(referenceWithSerialOf(reference.toString('pem'), fast.pem));
      const tbs = tbsOf(fast.pem).tbs;
      const validity = children(tbs, children(tbs, readOne(tbs, 0x30))[4]!);
      expect(validity.map((t) => t.tag)).toEqual([0x17, 0x18]);
      expect(new X509Certificate(fast.pem).validTo).toBe('Dec 26 00:00:00 2050 GMT');
    } finally {
      farDir.remove();
    }
  });

  const openssl = (() => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'pipe' });
      return true;
    } catch {
      return false;
    }
  })();
  if (!openssl) console.warn('openssl is not on this machine: the `openssl verify` test of ID certificates is skipped');

  it.skipIf(!openssl)(
    `openssl verify -x509_strict -purpose sslclient accepts the chain root → signing → ID certificate${openssl ? '' : ' (SKIPPED: no openssl)'}`,
    async () => {
      const files = { root: join(dir.path, 'root.pem'), signing: join(dir.path, 'signing.pem') };
      writeFileSync(files.root, pki.rootCaPem);
      writeFileSync(files.signing, pki.signingCertPem);
      const paths: string[] = [];
      for (const alg of ['ES256', 'Ed25519'] as const) {
        const subject = { instanceId: crypto.randomUUID(), pid: 'Ü-PID ✓', sn: 'SN 😀', domain: 'acme.example' };
        const cert = await issueIdCertificate(pki, csrs[alg], subject, clock.now());
        paths.push(join(dir.path, `${alg}.pem`));
        writeFileSync(paths.at(-1)!, cert.pem);
      }
      const at = String(clock.now() / 1000 + 60); // the test's clock, not the machine's
      const args = [
        'verify',
        '-x509_strict',
        '-purpose',
        'sslclient',
        '-attime',
        at,
        '-CAfile',
        files.root,
        '-untrusted',
      ];
      const out = execFileSync('openssl', [...args, files.signing, ...paths], { encoding: 'utf8' });
      expect(out.trim().split('\n')).toEqual(paths.map((p) => `${p}: OK`));
      // And a certificate signed by another key is refused.
      const other = await loadOrCreatePki({ dataDir: join(dir.path, 'other'), clock });
      const foreign = join(dir.path, 'foreign.pem');
      writeFileSync(
        foreign,
        (
          await issueIdCertificate(
            other,
            csrs.ES256,
            { instanceId: 'x', pid: 'P', sn: 'S', domain: 'a.example' },
            clock.now(),
          )
        ).pem,
      );
      expect(() => execFileSync('openssl', [...args, files.signing, foreign], { stdio: 'pipe' })).toThrow();
    },
  );

  // Every kind of character: what is issued equals the library's certificate and carries the
  // text as given; what is refused is refused with one message, and only for the characters
  // the issuer names.
  const UNFIT = /[\p{Cc}"\\]|[\uD800-\uDFFF]/u;
  const text = fc.oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 70 }),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 70 }),
    fc.string({
      unit: fc.constantFrom(...'aZ9 \'()+,-./:=?#"\\;<>*&\n\t\u0000é€😀\uD800'),
      minLength: 1,
      maxLength: 40,
    }),
    fc.string({ unit: 'grapheme-ascii', minLength: 120, maxLength: 300 }),
  );
  const REFUSAL =
    /^The request is not valid: the (PID|SN|domain)( and (SN|domain))*( and domain)? must be printable text without backslashes or double quotes\.$/;

  it('subject text of every kind: the library’s certificate, or one refusal', async () => {
    await fc.assert(
      fc.asyncProperty(text, text, fc.oneof(fc.constant('acme.example'), text), async (pid, sn, domain) => {
        const subject = { instanceId: crypto.randomUUID(), pid, sn, domain };
        const unfit = UNFIT.test(pid) || UNFIT.test(sn) || UNFIT.test(domain) || domain.startsWith('#');
        if (unfit) {
          const refusal = await issueIdCertificate(pki, csrs.ES256, subject, clock.now()).catch((e: unknown) => e);
          expect(refusal).toBeInstanceOf(SmartlicError);
          expect(refusal).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(REFUSAL) });
          return;
        }
        const { fast, reference } = await both(csrs.ES256, subject, clock.now());
        expect(tbsOf(fast.pem).tbs).toEqual(referenceWithSerialOf(reference, fast.pem));
        const parsed = new x509.X509Certificate(fast.pem);
        expect(parsed.subjectName.getField('CN')).toEqual([subject.instanceId]);
        expect(parsed.subjectName.getField('2.5.4.5')).toEqual([`PID:${pid} SN:${sn}`]);
        expect(parsed.subjectName.getField('O')).toEqual([domain]);
        expect(new X509Certificate(fast.pem).verify(new X509Certificate(pki.signingCertPem).publicKey)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('names each unfit field in its refusal', async () => {
    const now = clock.now();
    const issue = (pid: string, sn: string) =>
      issueIdCertificate(pki, csrs.ES256, { instanceId: 'i', pid, sn, domain: 'acme.example' }, now);
    await expect(issue('a"b"', 'ok')).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: 'The request is not valid: the PID must be printable text without backslashes or double quotes.',
      context: { fields: { 'udi.pid': ['must be printable text without backslashes or double quotes'] } },
    });
    await expect(issue('ok', 'line\nbreak')).rejects.toMatchObject({
      context: { fields: { 'udi.sn': [expect.any(String)] } },
    });
    await expect(issue('\\0a', '\u0000')).rejects.toMatchObject({
      message: expect.stringContaining('the PID and SN must'),
    });
  });
});
