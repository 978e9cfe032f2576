import { DAY, type Envelope, POLICY_ROUTES, type Policy, verifyEnvelope, verifySignerChain } from '@smartlic/protocol';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { PolicyDevice } from '../../test-support/policy-device.js';
import { describeEachEngine } from '../../test-support/postgres.js';
import { errorOf } from '../../test-support/sim-device.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

const TAG = 'regid.2026-01.com.example.dna-advantage';

describeEachEngine('Smart Licensing Using Policy on the authority', (engine) => {
  let t: TestServer;
  let vaId: string;
  let token: string;
  let serial = 0;
  const device = () =>
    new PolicyDevice(
      { url: t.url, clock: t.clock, rootCaPem: t.rootCaPem },
      { pid: 'C9300-24UX', sn: `FCW${++serial}` },
    );
  const importFile = (d: PolicyDevice, file: unknown) =>
    t.admin.request(`POST`, `/api/v1/instances/${d.instanceId}/usage-reports`, file);

  beforeEach(async () => {
    t = await startTestServer({ engine });
    ({ vaId } = await t.admin.setupVa());
    await t.admin.addLicense(vaId, { tag: TAG, count: 10 });
    token = (await t.admin.createToken(vaId)).token;
  });
  afterEach(async () => {
    await t.dispose();
  });

  it('issues a trust code with the default policy, and refuses a second one without force', async () => {
    const d = device();
    const answer = await d.trust(token);
    expect(answer.status).toBe(200);
    const payload = (answer.body as Envelope<{ type: string; policy: Policy; virtualAccount: { id: string } }>).payload;
    expect(payload.type).toBe('trust-response');
    expect(payload.virtualAccount.id).toBe(vaId);
    expect(payload.policy.classes['unenforced-perpetual']).toEqual({
      firstReportDays: 365,
      reportingFrequencyDays: 0,
      onChangeDays: 90,
    });
    expect(payload.policy.classes['unenforced-subscription']).toEqual({
      firstReportDays: 90,
      reportingFrequencyDays: 90,
      onChangeDays: 90,
    });
    const again = new PolicyDevice(d.ctx, d.udi);
    const refused = await again.trust(token);
    expect(refused.status).toBe(409);
    expect(errorOf(refused).code).toBe('ALREADY_REGISTERED');
    expect((await again.trust(token, true)).status).toBe(200);
    // Forced within its own Smart Account, the trust code is installed in place: same product instance, new key.
    expect(again.instanceId).toBe(d.instanceId);
    expect(again.idCertSerial).not.toBe(d.idCertSerial);
    expect((await t.admin.listInstances(vaId)).map((i) => i.id)).toEqual([d.instanceId]);
    expect((await d.sync([d.report({ [TAG]: 1 })])).status).toBe(401);
    expect((await again.sync([again.report({ [TAG]: 1 })])).status).toBe(200);
  });

  it('switches a registered device to the policy model in place: same instance, its usage kept', async () => {
    const registered = t.device('C9300-24UX', 'FCW-SWITCH');
    await registered.register(token);
    await registered.authorize([{ tag: TAG, count: 3 }]);
    const d = new PolicyDevice({ url: t.url, clock: t.clock, rootCaPem: t.rootCaPem }, registered.udi);
    expect((await d.trust(token)).status).toBe(409);
    const answer = await d.trust(token, true);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(d.instanceId).toBe(registered.instanceId);
    expect(await t.admin.listLicenses(vaId)).toMatchObject([{ tag: TAG, inUse: 3 }]);
    // The registration's certificate no longer speaks for the device.
    expect(errorOf(await registered.authorize([{ tag: TAG, count: 9 }])).code).toBe('MISSING_SERIALS');
    await d.sync([d.report({ [TAG]: 5 })]);
    expect(await t.admin.listLicenses(vaId)).toMatchObject([{ tag: TAG, inUse: 5 }]);
    const events = await t.admin.ok<{ items: { type: string }[] }>('GET', `/api/v1/virtual-accounts/${vaId}/events`);
    expect(events.items.map((e) => e.type)).toContain('instance.trusted');
  });

  it('refuses a trust request from a clock more than an hour off', async () => {
    const d = device();
    t.clock.advance(2 * 3_600_000);
    const ctx = { ...d.ctx, clock: { now: () => t.clock.now() - 2 * 3_600_000 } };
    const late = new PolicyDevice(ctx, d.udi);
    const answer = await late.trust(token);
    expect(answer.status).toBe(400);
    expect(errorOf(answer).code).toBe('CLOCK_OFFSET');
  });

  it('records reports online once each, feeds the usage into the license list and ACKs with the policy', async () => {
    const d = device();
    await d.trust(token);
    const first = d.report({ [TAG]: 3 });
    const answer = await d.sync([first]);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const ack = d.ackOf(answer);
    expect(ack.reportIds).toEqual([first.payload.reportId]);
    expect(ack.udi).toEqual(d.udi);
    expect(ack.policy.custom).toBe(false);
    expect(await t.admin.listLicenses(vaId)).toMatchObject([{ tag: TAG, inUse: 3, surplus: 7 }]);
    const instances = await t.admin.listInstances(vaId);
    expect(instances[0]?.usage).toEqual([{ tag: TAG, count: 3 }]);

    // The same report again (a lost ACK): acknowledged, counted once; an older one changes nothing.
    t.clock.advance(60_000);
    const older = d.report({ [TAG]: 9 }, { createdAt: first.payload.createdAt - 60_000 });
    const again = await d.sync([first, older]);
    expect(d.ackOf(again).reportIds).toEqual([first.payload.reportId, older.payload.reportId]);
    expect(await t.admin.listLicenses(vaId)).toMatchObject([{ tag: TAG, inUse: 3 }]);
    const rows = await t.inspect((db) =>
      db.selectFrom('policy_reports').select('report_id').orderBy('report_id').execute(),
    );
    expect(rows).toHaveLength(2);

    // A newer report replaces the usage.
    t.clock.advance(60_000);
    await d.sync([d.report({ [TAG]: 5 })]);
    expect(await t.admin.listLicenses(vaId)).toMatchObject([{ tag: TAG, inUse: 5 }]);
  });

  it('imports a usage file once, answers a signed ACK file bound to the UDI, and refuses altered or foreign reports whole', async () => {
    const d = device();
    await d.trust(token);
    const other = device();
    await other.trust(token);
    const reports = [d.report({ [TAG]: 2 })];
    t.clock.advance(1000);
    reports.push(d.report({ [TAG]: 4 }));
    const answer = await t.admin.ok<{
      reports: number;
      acknowledged: number;
      recorded: number;
      ackFile: { udi: unknown; ack: Envelope<{ reportIds: string[] }> };
    }>('POST', `/api/v1/instances/${d.instanceId}/usage-reports`, d.usageFile(reports), 200);
    expect(answer).toMatchObject({ reports: 2, acknowledged: 2, recorded: 2 });
    expect(answer.ackFile.udi).toEqual(d.udi);
    expect(answer.ackFile.ack.payload.reportIds).toHaveLength(2);
    expect(await t.admin.listLicenses(vaId)).toMatchObject([{ tag: TAG, inUse: 4 }]);

    const twice = await t.admin.ok<{ recorded: number; acknowledged: number }>(
      'POST',
      `/api/v1/instances/${d.instanceId}/usage-reports`,
      d.usageFile(reports),
      200,
    );
    expect(twice).toMatchObject({ recorded: 0, acknowledged: 2 });
    expect(await t.admin.listLicenses(vaId)).toMatchObject([{ tag: TAG, inUse: 4 }]);

    const before = await t.inspect((db) =>
      db.selectFrom('policy_reports').select('report_id').orderBy('report_id').execute(),
    );
    t.clock.advance(1000);
    const altered = d.report({ [TAG]: 1 });
    (altered.payload.usage[0]!.measurements[0] as { count: number }).count = 0;
    const refused = await importFile(d, d.usageFile([d.report({ [TAG]: 6 }), altered]));
    expect(refused.status).toBe(401);
    expect(errorOf(refused).code).toBe('SIGNATURE_MISMATCH');
    expect(errorOf(refused).message).toContain(altered.payload.reportId);

    const foreign = await importFile(d, d.usageFile([other.report({ [TAG]: 8 })]));
    expect(foreign.status).toBe(400);
    expect(errorOf(foreign).message).toContain('another product instance');
    const wrongFile = await importFile(other, d.usageFile([d.report({ [TAG]: 8 })]));
    expect(wrongFile.status).toBe(400);

    expect(
      await t.inspect((db) => db.selectFrom('policy_reports').select('report_id').orderBy('report_id').execute()),
    ).toEqual(before);
    expect(await t.admin.listLicenses(vaId)).toMatchObject([{ tag: TAG, inUse: 4 }]);
  });

  it('carries a VA custom policy in the next ACK', async () => {
    const d = device();
    await d.trust(token);
    const set = await t.admin.ok<Policy>(
      'POST',
      `/api/v1/virtual-accounts/${vaId}/policy`,
      {
        licenseClass: 'unenforced-perpetual',
        firstReportDays: 30,
        reportingFrequencyDays: 30,
        onChangeDays: 7,
      },
      200,
    );
    expect(set.custom).toBe(true);
    const ack = d.ackOf(await d.sync([]));
    expect(ack.policy.classes['unenforced-perpetual']).toEqual({
      firstReportDays: 30,
      reportingFrequencyDays: 30,
      onChangeDays: 7,
    });
    expect(ack.policy.classes.enforced).toEqual({ firstReportDays: 0, reportingFrequencyDays: 0, onChangeDays: 0 });
    const bad = await t.admin.request('POST', `/api/v1/virtual-accounts/${vaId}/policy`, {
      licenseClass: 'free',
      firstReportDays: -1,
      reportingFrequencyDays: 0,
      onChangeDays: 0,
    });
    expect(bad.status).toBe(400);
    const unknown = await t.admin.request(
      'GET',
      '/api/v1/virtual-accounts/00000000-0000-4000-8000-000000000000/policy',
    );
    expect(unknown.status).toBe(404);
  });

  it('issues a SLAC while the VA has the licenses free, and takes it back once', async () => {
    const d = device();
    await d.trust(token);
    const ask = (count: number) =>
      d.send(POLICY_ROUTES.slac, d.signIdentified('slac', { licenses: [{ tag: TAG, count }] }));
    expect((await ask(11)).status).toBe(409);
    const granted = await ask(2);
    expect(granted.status).toBe(200);
    const slacId = (granted.body as Envelope<{ slac: { slacId: string } }>).payload.slac.slacId;
    const back = () => d.send(POLICY_ROUTES.slacReturn, d.signIdentified('slac-return', { slacId }));
    expect((await back()).status).toBe(200);
    expect((await back()).status).toBe(404);
  });

  it('answers a SLAC request file once per request id, signed and bound to the UDI; refuses altered and foreign requests', async () => {
    const d = device();
    await d.trust(token);
    const other = device();
    await other.trust(token);
    const answerFor = (instanceId: string, file: unknown) =>
      t.admin.request('POST', `/api/v1/instances/${instanceId}/slac-requests`, file);
    const slacRows = () =>
      t.inspect((db) => db.selectFrom('slac_authorizations').select(['id', 'instance_id']).orderBy('id').execute());

    const short = await answerFor(d.instanceId, d.slacRequestFile([{ tag: TAG, count: 11 }]));
    expect(short.status).toBe(409);
    const file = d.slacRequestFile([{ tag: TAG, count: 2 }]);
    const first = await answerFor(d.instanceId, file);
    expect(first.status).toBe(200);
    const answer = first.body as {
      slacId: string;
      issued: boolean;
      slacFile: { udi: unknown; slac: Envelope<{ slacId: string; licenses: unknown }>; signingCertificate: string };
    };
    expect(answer.issued).toBe(true);
    expect(answer.slacId).toBe(file.request.payload.requestId);
    expect(answer.slacFile.udi).toEqual(d.udi);
    const signer = verifySignerChain(answer.slacFile.signingCertificate, [t.rootCaPem], t.clock.now());
    expect(verifyEnvelope(answer.slacFile.slac, signer.publicKey)).toBe(true);
    expect(answer.slacFile.slac.payload.licenses).toEqual([{ tag: TAG, count: 2 }]);

    const again = await answerFor(d.instanceId, file);
    expect(again.body).toMatchObject({ slacId: answer.slacId, issued: false });
    const before = await slacRows();
    expect(before).toEqual([{ id: answer.slacId, instance_id: d.instanceId }]);

    const altered = structuredClone(d.slacRequestFile([{ tag: TAG, count: 1 }]));
    (altered.request.payload.licenses[0] as { count: number }).count = 3;
    const refused = await answerFor(d.instanceId, altered);
    expect(refused.status).toBe(401);
    expect(errorOf(refused).code).toBe('SIGNATURE_MISMATCH');
    const foreign = await answerFor(other.instanceId, d.slacRequestFile([{ tag: TAG, count: 1 }]));
    expect(foreign.status).toBe(400);
    const stolenId = await answerFor(other.instanceId, other.slacRequestFile([{ tag: TAG, count: 1 }], answer.slacId));
    expect(stolenId.status).toBe(400);
    expect(errorOf(stolenId).message).toContain('belongs to another product instance');
    expect(await slacRows()).toEqual(before);
  });

  it('leaves policy devices out of the silent-instance lifecycle (their policy sets when they report)', async () => {
    const d = device();
    await d.trust(token);
    await d.sync([d.report({ [TAG]: 2 })]);
    const registered = t.device('C9300-24UX', 'FCW-SILENT');
    await registered.register(token);
    await registered.authorize([{ tag: TAG, count: 1 }]);
    t.clock.advance(100 * DAY);
    await t.admin.ok('POST', '/api/v1/jobs/run', undefined, 200);
    // The registered one's usage went back to the pool at 90 days; the policy device's stays.
    expect(await t.admin.listLicenses(vaId)).toMatchObject([{ tag: TAG, inUse: 2 }]);
    const alerts = new Map((await t.admin.listInstances(vaId)).map((i) => [i.id, i.alerts]));
    expect(alerts.get(d.instanceId)).toEqual([]);
    expect(alerts.get(registered.instanceId as string)).toEqual(['No contact for 90 days: usage released']);
    t.clock.advance(300 * DAY);
    await t.admin.ok('POST', '/api/v1/jobs/run', undefined, 200);
    expect((await t.admin.listInstances(vaId)).map((i) => i.id)).toEqual([d.instanceId]);
  });

  it('refuses a replayed usage message', async () => {
    const d = device();
    await d.trust(token);
    const envelope = d.usageEnvelope([d.report({ [TAG]: 1 })]);
    expect((await d.send(POLICY_ROUTES.usage, envelope)).status).toBe(200);
    const replay = await d.send(POLICY_ROUTES.usage, envelope);
    expect(errorOf(replay).code).toBe('REPLAYED_NONCE');
    t.clock.advance(DAY);
  });
});
