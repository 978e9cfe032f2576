// Regenerates the protocol test vectors. Run after `npm run build`:
//   node packages/protocol/scripts/make-vectors.mjs
// Keys are generated afresh each time; the committed vectors are the reference.
import { writeFileSync } from 'node:fs';
import * as p from '../dist/index.js';

const out = new URL('../vectors/', import.meta.url);
const write = (name, data) => writeFileSync(new URL(name, out), `${JSON.stringify(data, null, 2)}\n`);

write('canonical.json', [
  { name: 'keys sorted', input: { b: 1, a: 2 }, canonical: '{"a":2,"b":1}' },
  {
    name: 'nested and arrays kept in order',
    input: { z: [3, 1, { y: true, x: null }], a: 'é' },
    canonical: '{"a":"é","z":[3,1,{"x":null,"y":true}]}',
  },
  { name: 'string escapes', input: { s: 'line\n"quote"\\' }, canonical: '{"s":"line\\n\\"quote\\"\\\\"}' },
  {
    name: 'numbers',
    input: { n: [0, -1, 1.5, 1e21, 1700000000000] },
    canonical: '{"n":[0,-1,1.5,1e+21,1700000000000]}',
  },
  { name: 'unicode key order by code unit', input: { é: 1, z: 2, A: 3 }, canonical: '{"A":3,"z":2,"é":1}' },
]);

const payload = {
  type: 'authorize',
  version: 1,
  timestamp: 1767225600000,
  nonce: 'AAECAwQFBgcICQoLDA0ODw',
  instanceId: '6f1c2f4e-8d0a-4d8e-9a55-2b1c3d4e5f60',
  idCertSerial: '1a2b3c',
  signingCertSerial: '4d5e6f',
  entitlements: [{ tag: 'regid.2014-08.com.example.A', count: 4 }],
};
const sigs = [];
for (const alg of ['ES256', 'Ed25519']) {
  const kp = p.generateKeyPair(alg);
  const publicKeyPem = kp.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const env = p.signEnvelope(payload, kp.privateKey, '1a2b3c');
  sigs.push({ name: `${alg} valid`, publicKeyPem, envelope: env, valid: true });
  sigs.push({
    name: `${alg} payload altered`,
    publicKeyPem,
    envelope: { ...env, payload: { ...payload, entitlements: [{ tag: 'regid.2014-08.com.example.A', count: 40 }] } },
    valid: false,
  });
  const flipped = Buffer.from(env.signature.value, 'base64url');
  flipped[5] ^= 1;
  sigs.push({
    name: `${alg} signature bit flipped`,
    publicKeyPem,
    envelope: { ...env, signature: { ...env.signature, value: flipped.toString('base64url') } },
    valid: false,
  });
  sigs.push({
    name: `${alg} wrong algorithm named`,
    publicKeyPem,
    envelope: { ...env, signature: { ...env.signature, alg: alg === 'ES256' ? 'Ed25519' : 'ES256' } },
    valid: false,
  });
  sigs.push({
    name: `${alg} truncated signature`,
    publicKeyPem,
    envelope: { ...env, signature: { ...env.signature, value: env.signature.value.slice(0, 20) } },
    valid: false,
  });
}
write('signatures.json', sigs);

const udi = { pid: 'C9300-24UX', sn: 'FCW2134L0RN' };
const fresh = { version: 1, timestamp: 1767225600000, nonce: 'AAECAwQFBgcICQoLDA0ODw' };
const csr = await p.createCsr(p.generateKeyPair('ES256'), 'CN=vector');
const ident = { ...fresh, instanceId: payload.instanceId, idCertSerial: '1a2b3c', signingCertSerial: '4d5e6f' };
/** Device-led conversion (SPEC §4.5). */
const legacy = { legacyId: 'PAK-3850-001:ipservices', tag: 'regid.c3850.ipservices', count: 1 };
const convertVectors = [
  { name: 'convert ok', type: 'convert', message: { type: 'convert', ...ident, licenses: [legacy] }, valid: true },
  {
    name: 'convert a term license',
    type: 'convert',
    message: {
      type: 'convert',
      ...ident,
      licenses: [{ ...legacy, name: 'IP Services', type: 'term', endsAt: 1798761600000 }],
    },
    valid: true,
  },
  {
    name: 'convert with no licenses',
    type: 'convert',
    message: { type: 'convert', ...ident, licenses: [] },
    valid: false,
  },
  {
    name: 'convert with a zero count',
    type: 'convert',
    message: { type: 'convert', ...ident, licenses: [{ ...legacy, count: 0 }] },
    valid: false,
  },
  {
    name: 'convert with a count above the protocol ceiling',
    type: 'convert',
    message: { type: 'convert', ...ident, licenses: [{ ...legacy, count: p.LEGACY_LICENSE_COUNT_MAX + 1 }] },
    valid: false,
  },
  {
    name: 'convert without a legacy id',
    type: 'convert',
    message: { type: 'convert', ...ident, licenses: [{ tag: legacy.tag, count: 1 }] },
    valid: false,
  },
];
/** Device text and dates that would break listings, terminals or spreadsheets, and their legitimate neighbours. */
const registerWith = (change) => ({
  type: 'register',
  ...fresh,
  idToken: 'tok',
  softwareTag: 'regid.x',
  udi,
  hostname: 'sw1',
  csr,
  force: false,
  ...change,
});
const authorizeWith = (entitlement, change = {}) => ({
  ...payload,
  entitlements: [{ tag: 'regid.2014-08.com.example.A', count: 1, ...entitlement }],
  ...change,
});
const convertWith = (change) => ({ type: 'convert', ...ident, licenses: [{ ...legacy, ...change }] });
const hostileVectors = [
  {
    name: 'register with a dashed, dotted host name',
    type: 'register',
    message: registerWith({ hostname: 'core-sw1.lab_2.example.com' }),
    valid: true,
  },
  {
    name: 'register with an escape sequence in the host name',
    type: 'register',
    message: registerWith({ hostname: 'sw1\u001b[31m' }),
    valid: false,
  },
  {
    name: 'register with a space in the host name',
    type: 'register',
    message: registerWith({ hostname: 'sw 1' }),
    valid: false,
  },
  {
    name: 'register with a space in the serial number',
    type: 'register',
    message: registerWith({ udi: { ...udi, sn: 'FCW 2134' } }),
    valid: false,
  },
  {
    name: 'register with a line break in the software tag',
    type: 'register',
    message: registerWith({ softwareTag: 'regid.x\nregid.y' }),
    valid: false,
  },
  {
    name: 'register stamped before 2000',
    type: 'register',
    message: registerWith({ timestamp: 0 }),
    valid: false,
  },
  {
    name: 'authorize a tag with spaces and a comma',
    type: 'authorize',
    message: authorizeWith({ tag: 'C9500 32C NW Advantage', displayName: 'C9500 32C Network Advantage, 1.0' }),
    valid: true,
  },
  {
    name: 'authorize a tag with a NUL',
    type: 'authorize',
    message: authorizeWith({ tag: 'regid.x\u0000' }),
    valid: false,
  },
  {
    name: 'authorize a tag that is a spreadsheet formula',
    type: 'authorize',
    message: authorizeWith({ tag: '=HYPERLINK("http://x","y")' }),
    valid: false,
  },
  {
    name: 'authorize a display name with an escape sequence',
    type: 'authorize',
    message: authorizeWith({ displayName: 'Advantage\u001b[2J' }),
    valid: false,
  },
  {
    name: 'authorize stamped beyond the range of a date',
    type: 'authorize',
    message: authorizeWith({}, { timestamp: 8640000000000001 }),
    valid: false,
  },
  {
    name: 'convert a term license ending on 9999-12-31',
    type: 'convert',
    message: convertWith({ type: 'term', endsAt: 253402214400000 }),
    valid: true,
  },
  {
    name: 'convert a term license ending beyond the range of a date',
    type: 'convert',
    message: convertWith({ type: 'term', endsAt: 8640000000000001 }),
    valid: false,
  },
  {
    name: 'convert a term license ending after 9999',
    type: 'convert',
    message: convertWith({ type: 'term', endsAt: 253402300800000 }),
    valid: false,
  },
  {
    name: 'convert a license whose name holds a control character',
    type: 'convert',
    message: convertWith({ name: 'IP\u0007Services' }),
    valid: false,
  },
];
write('messages.json', [
  {
    name: 'register ok',
    type: 'register',
    message: {
      type: 'register',
      ...fresh,
      idToken: 'tok',
      softwareTag: 'regid.x',
      udi,
      hostname: 'sw1',
      csr,
      force: false,
    },
    valid: true,
  },
  {
    name: 'register without udi',
    type: 'register',
    message: { type: 'register', ...fresh, idToken: 'tok', softwareTag: 'regid.x', csr, force: false },
    valid: false,
  },
  {
    name: 'register with a short nonce',
    type: 'register',
    message: {
      type: 'register',
      ...fresh,
      nonce: 'abc',
      idToken: 'tok',
      softwareTag: 'regid.x',
      udi,
      csr,
      force: false,
    },
    valid: false,
  },
  {
    name: 'register from a future protocol version',
    type: 'register',
    message: { type: 'register', ...fresh, version: 2, idToken: 'tok', softwareTag: 'regid.x', udi, csr, force: false },
    valid: false,
  },
  { name: 'authorize ok', type: 'authorize', message: payload, valid: true },
  {
    name: 'authorize negative count',
    type: 'authorize',
    message: { ...payload, entitlements: [{ tag: 'A', count: -1 }] },
    valid: false,
  },
  {
    name: 'authorize fractional count',
    type: 'authorize',
    message: { ...payload, entitlements: [{ tag: 'A', count: 1.5 }] },
    valid: false,
  },
  {
    name: 'authorize missing serials',
    type: 'authorize',
    message: { type: 'authorize', ...fresh, instanceId: payload.instanceId, entitlements: [] },
    valid: false,
  },
  { name: 'renew-id ok', type: 'renew-id', message: { type: 'renew-id', ...ident, csr }, valid: true },
  { name: 'deregister ok', type: 'deregister', message: { type: 'deregister', ...ident }, valid: true },
  {
    name: 'deregister with a non-uuid instance',
    type: 'deregister',
    message: { type: 'deregister', ...ident, instanceId: 'abc' },
    valid: false,
  },
  ...convertVectors,
  ...hostileVectors,
]);

console.log('vectors written');
