import { X509Certificate } from 'node:crypto';
import type { Envelope, RegisterResponse } from '@smartlic/protocol';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine } from '../../../test-support/postgres.js';
import { errorOf } from '../../../test-support/sim-device.js';
import { startTestServer, type TestServer } from '../../../test-support/test-server.js';

describeEachEngine('the UDI in the ID certificate subject', (engine) => {
  let t: TestServer;
  let vaId: string;
  beforeEach(async () => {
    t = await startTestServer({ engine });
    ({ vaId } = await t.admin.setupVa());
  });
  afterEach(async () => {
    await t.dispose();
  });

  it('carries printable ASCII, characters a DN would escape included, as it was sent', async () => {
    const token = await t.admin.createToken(vaId);
    for (const alg of ['ES256', 'Ed25519'] as const) {
      const answer = await t.device('C9300-24UX', `SN,+<x>=;#/${alg}`, alg).register(token.token);
      expect(answer.status).toBe(200);
      const { payload } = answer.body as Envelope<RegisterResponse>;
      const cert = new X509Certificate(payload.idCertificate);
      expect(cert.subject.split('\n')).toEqual([
        `CN=${payload.instanceId}`,
        // Node shows the subject as RFC 4514 text: the value holds the characters as sent, escaped there.
        `serialNumber=PID:C9300-24UX SN:SN\\,\\+\\<x\\>=\\;#/${alg}`,
        expect.stringMatching(/^O=\S+$/),
      ]);
      expect(cert.verify(new X509Certificate(payload.signingCertificate).publicKey)).toBe(true);
    }
  });

  it('refuses a PID or SN with control characters, non-ASCII text, backslashes or double quotes, and changes nothing', async () => {
    const token = await t.admin.createToken(vaId);
    // The wire rules (printable ASCII without spaces) refuse controls and non-ASCII text first; the
    // certificate subject refuses what they let through but a subject cannot carry faithfully.
    const wire = 'must be printable ASCII without spaces';
    const subject = 'be printable text without backslashes or double quotes.';
    const cases = [
      { pid: 'C9300\tX', sn: 'FCW1', message: `payload.udi.pid: ${wire}`, field: 'udi.pid' },
      { pid: 'Ü-PID', sn: 'FCW1', message: `payload.udi.pid: ${wire}`, field: 'udi.pid' },
      { pid: 'C9300', sn: 'FCW"2"', message: `the SN must ${subject}`, field: 'udi.sn' },
      { pid: 'C9300', sn: 'FCW\\0a3', message: `the SN must ${subject}`, field: 'udi.sn' },
    ];
    for (const { pid, sn, message, field } of cases) {
      const answer = await t.device(pid, sn).register(token.token);
      expect(answer.status).toBe(400);
      expect(errorOf(answer)).toMatchObject({
        code: 'BAD_REQUEST',
        message: `The request is not valid: ${message}`,
        requestId: expect.any(String),
      });
      expect(JSON.stringify(answer.body)).toContain(field);
    }
    expect(await t.admin.listInstances(vaId)).toEqual([]);
    expect((await t.admin.listTokens(vaId))[0]).toMatchObject({ uses: 0 });
  });
});
