// Regenerates the policy-model test vectors (vectors/policy.json). Run after `npm run build`:
//   node packages/protocol/scripts/make-policy-vectors.mjs
// Keys are generated afresh each time; the committed vectors are the reference.
import { writeFileSync } from 'node:fs';
import * as p from '../dist/index.js';

const device = p.generateKeyPair('ES256');
const authority = p.generateKeyPair('ES256');
const pemOf = (key) => key.export({ type: 'spki', format: 'pem' }).toString();
const udi = { pid: 'C9300-24UX', sn: 'FCW2134L0RN' };
const instanceId = '3f2b8c9e-4d1a-4e6b-9c2d-1a2b3c4d5e6f';
const policy = {
  name: p.DEFAULT_POLICY_NAME,
  custom: false,
  classes: structuredClone(p.DEFAULT_POLICY_TERMS),
};
const report = {
  type: 'rum-report',
  version: 1,
  reportId: '0b6f3a3e-5c1d-4e2a-8f3b-9d8c7b6a5f4e',
  instanceId,
  idCertSerial: '1a2b',
  udi,
  createdAt: 1767229200000,
  usage: [
    {
      tag: 'regid.2026-01.org.smartlic.C9300,1.0_dna-advantage',
      licenseClass: 'unenforced-perpetual',
      measurements: [{ start: 1767225600000, end: 1767229200000, sampleIntervalMs: 900000, samples: 4, count: 3 }],
    },
  ],
};
const signedReport = p.signEnvelope(report, device.privateKey, '1a2b');
const ack = {
  type: 'ack',
  version: 1,
  ackId: '6a1e2f3d-4c5b-4a69-8877-665544332211',
  instanceId,
  udi,
  reportIds: [report.reportId],
  policy,
  issuedAt: 1767229300000,
};
const signedAck = p.signEnvelope(ack, authority.privateKey, 'ff01');
const fresh = { version: 1, timestamp: 1767225600000, nonce: 'AAECAwQFBgcICQoLDA0ODw' };
const ids = { instanceId, idCertSerial: '1a2b', signingCertSerial: 'ff01' };
const altered = structuredClone(signedReport);
altered.payload.usage[0].measurements[0].count = 30;
const otherUdi = structuredClone(signedAck);
otherUdi.payload.udi = { pid: 'C9300-24UX', sn: 'FCW0000X000' };

const vectors = {
  signatures: [
    {
      name: 'RUM report signed by the device',
      publicKeyPem: pemOf(device.publicKey),
      envelope: signedReport,
      valid: true,
    },
    {
      name: 'RUM report with an altered count',
      publicKeyPem: pemOf(device.publicKey),
      envelope: altered,
      valid: false,
    },
    {
      name: 'RUM report checked with the authority key',
      publicKeyPem: pemOf(authority.publicKey),
      envelope: signedReport,
      valid: false,
    },
    { name: 'ACK signed by the authority', publicKeyPem: pemOf(authority.publicKey), envelope: signedAck, valid: true },
    { name: 'ACK moved to another UDI', publicKeyPem: pemOf(authority.publicKey), envelope: otherUdi, valid: false },
  ],
  messages: [
    { name: 'rum report', type: 'rum-report', message: report, valid: true },
    {
      name: 'rum report without measurements',
      type: 'rum-report',
      message: { ...report, usage: [{ ...report.usage[0], measurements: [] }] },
      valid: false,
    },
    {
      name: 'rum report with a negative count',
      type: 'rum-report',
      message: {
        ...report,
        usage: [{ ...report.usage[0], measurements: [{ ...report.usage[0].measurements[0], count: -1 }] }],
      },
      valid: false,
    },
    {
      name: 'rum report with an unknown class',
      type: 'rum-report',
      message: { ...report, usage: [{ ...report.usage[0], licenseClass: 'free' }] },
      valid: false,
    },
    { name: 'rum report id not a uuid', type: 'rum-report', message: { ...report, reportId: 'r1' }, valid: false },
    { name: 'ack', type: 'ack', message: ack, valid: true },
    {
      name: 'ack with policy days over ten years',
      type: 'ack',
      message: {
        ...ack,
        policy: {
          ...policy,
          classes: {
            ...policy.classes,
            enforced: { firstReportDays: 3651, reportingFrequencyDays: 0, onChangeDays: 0 },
          },
        },
      },
      valid: false,
    },
    { name: 'ack without policy', type: 'ack', message: { ...ack, policy: undefined }, valid: false },
    {
      name: 'trust',
      type: 'trust',
      message: {
        type: 'trust',
        ...fresh,
        idToken: 'tok',
        softwareTag: 'regid.x',
        udi,
        csr: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----',
        force: false,
        scope: 'local',
      },
      valid: true,
    },
    {
      name: 'trust with a bad scope',
      type: 'trust',
      message: {
        type: 'trust',
        ...fresh,
        idToken: 'tok',
        softwareTag: 'regid.x',
        udi,
        csr: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----',
        force: false,
        scope: 'some',
      },
      valid: false,
    },
    {
      name: 'usage',
      type: 'usage',
      message: { type: 'usage', ...fresh, ...ids, reports: [signedReport] },
      valid: true,
    },
    {
      name: 'usage without reports (fetch the policy)',
      type: 'usage',
      message: { type: 'usage', ...fresh, ...ids, reports: [] },
      valid: true,
    },
    {
      name: 'usage with a report without signature',
      type: 'usage',
      message: { type: 'usage', ...fresh, ...ids, reports: [{ payload: report }] },
      valid: false,
    },
    {
      name: 'slac',
      type: 'slac',
      message: { type: 'slac', ...fresh, ...ids, licenses: [{ tag: 'hseck9', count: 1 }] },
      valid: true,
    },
    { name: 'slac of nothing', type: 'slac', message: { type: 'slac', ...fresh, ...ids, licenses: [] }, valid: false },
    {
      name: 'slac-return',
      type: 'slac-return',
      message: { type: 'slac-return', ...fresh, ...ids, slacId: ack.ackId },
      valid: true,
    },
    {
      name: 'usage file',
      type: 'usage-file',
      message: {
        format: 'smartlic-usage',
        version: 1,
        udi,
        instanceId,
        createdAt: 1767229200000,
        reports: [signedReport],
      },
      valid: true,
    },
    {
      name: 'usage file of another format',
      type: 'usage-file',
      message: {
        format: 'smartlic-ack',
        version: 1,
        udi,
        instanceId,
        createdAt: 1767229200000,
        reports: [signedReport],
      },
      valid: false,
    },
    {
      name: 'ack file',
      type: 'ack-file',
      message: {
        format: 'smartlic-ack',
        version: 1,
        udi,
        ack: signedAck,
        signingCertificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      },
      valid: true,
    },
    {
      name: 'ack file without the signer',
      type: 'ack-file',
      message: { format: 'smartlic-ack', version: 1, udi, ack: signedAck },
      valid: false,
    },
  ],
};
writeFileSync(new URL('../vectors/policy.json', import.meta.url), `${JSON.stringify(vectors, null, 2)}\n`);
