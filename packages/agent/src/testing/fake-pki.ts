import 'reflect-metadata';
import { createPublicKey, type KeyObject, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { generateKeyPair, type KeyPair, normalizeSerial, privateKeyToPem, toWebKeys } from '@smartlic/protocol';

x509.cryptoProvider.set(webcrypto as never);

const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' };
const YEAR = 365 * 24 * 60 * 60 * 1000;

/** A certificate authority of the fake: its key pair, certificate and serial. */
export interface FakeIssuer {
  pair: KeyPair;
  cert: x509.X509Certificate;
  pem: string;
  serial: string;
  /** SHA-256 fingerprint, `AB:CD:…`. */
  fingerprint: string;
}

/** A positive random serial of 16 bytes, hex. */
function newSerialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 1) & 0x7f) | 0x01;
  return bytes.toString('hex');
}

async function issuer(pair: KeyPair, cert: x509.X509Certificate): Promise<FakeIssuer> {
  const pem = cert.toString('pem');
  const node = new X509Certificate(pem);
  return { pair, cert, pem: `${pem}\n`, serial: normalizeSerial(node.serialNumber), fingerprint: node.fingerprint256 };
}

/** A self-signed root CA valid 20 years around `now`. */
export async function createRootCa(name: string, now: number): Promise<FakeIssuer> {
  const pair = generateKeyPair('ES256');
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerialHex(),
    name,
    notBefore: new Date(now - YEAR),
    notAfter: new Date(now + 20 * YEAR),
    keys: (await toWebKeys(pair)) as never,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return issuer(pair, cert);
}

/** A signing (sub-CA) certificate issued by `parent`, valid 10 years around `now`. */
export async function createSigningCa(parent: FakeIssuer, name: string, now: number): Promise<FakeIssuer> {
  const pair = generateKeyPair('ES256');
  const keys = await toWebKeys(pair);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: newSerialHex(),
    subject: name,
    issuer: parent.cert.subjectName,
    notBefore: new Date(now - YEAR),
    notAfter: new Date(now + 10 * YEAR),
    publicKey: keys.publicKey as never,
    signingKey: (await toWebKeys(parent.pair)).privateKey as never,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
    ],
  });
  return issuer(pair, cert);
}

/** A checked CSR: its subject and public key. */
export interface CheckedCsr {
  subject: string;
  publicKey: KeyObject;
  raw: x509.PublicKey;
}

/** Parses and verifies a PEM CSR; undefined when it is malformed or its self-signature fails. */
export async function checkCsr(pem: string): Promise<CheckedCsr | undefined> {
  try {
    const csr = new x509.Pkcs10CertificateRequest(pem);
    if (!(await csr.verify())) return undefined;
    const publicKey = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
    return { subject: csr.subject, publicKey, raw: csr.publicKey };
  } catch {
    return undefined;
  }
}

/** An ID certificate: `CN=<instance>`, `serialNumber=PID:<pid> SN:<sn>`, `O=<domain>` (SPEC §3). */
export async function issueIdCertificate(
  signer: FakeIssuer,
  csr: CheckedCsr,
  args: { instanceId: string; pid: string; sn: string; domain: string; now: number; validityMs: number },
): Promise<{ pem: string; serial: string; expiresAt: number }> {
  const notAfter = Math.floor((args.now + args.validityMs) / 1000) * 1000;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: newSerialHex(),
    subject: [{ CN: [args.instanceId] }, { '2.5.4.5': [`PID:${args.pid} SN:${args.sn}`] }, { O: [args.domain] }],
    issuer: signer.cert.subjectName,
    notBefore: new Date(Math.floor((args.now - 60_000) / 1000) * 1000),
    notAfter: new Date(notAfter),
    publicKey: csr.raw,
    signingKey: (await toWebKeys(signer.pair)).privateKey as never,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    ],
  });
  const pem = cert.toString('pem');
  return { pem: `${pem}\n`, serial: normalizeSerial(new X509Certificate(pem).serialNumber), expiresAt: notAfter };
}

/** A TLS server certificate for 127.0.0.1 and localhost issued by `parent` (valid by the real clock). */
export async function issueTlsCertificate(parent: FakeIssuer): Promise<{ certPem: string; keyPem: string }> {
  const pair = generateKeyPair('ES256');
  const keys = await toWebKeys(pair);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: newSerialHex(),
    subject: 'CN=localhost',
    issuer: parent.cert.subjectName,
    notBefore: new Date(now - 24 * 60 * 60 * 1000),
    notAfter: new Date(now + YEAR),
    publicKey: keys.publicKey as never,
    signingKey: (await toWebKeys(parent.pair)).privateKey as never,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
      ]),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: privateKeyToPem(pair.privateKey) };
}
