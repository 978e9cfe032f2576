import { DAY, type KeyPair, ManualClock } from '@smartlic/protocol';
import { afterEach, expect, it } from 'vitest';
import { describeEachEngine } from '../../../test-support/postgres.js';
import { errorOf, type SimDevice } from '../../../test-support/sim-device.js';
import { makeTempDir } from '../../../test-support/temp-dir.js';
import { startTestServer, type TestServer } from '../../../test-support/test-server.js';

const TAG = 'regid.2014-08.com.example.A';

/** The ID certificate a device holds. */
interface Held {
  keys: KeyPair;
  idCertSerial: string;
  idCertPem: string;
}

const held = (d: SimDevice): Held => ({ keys: d.keys, idCertSerial: d.idCertSerial!, idCertPem: d.idCertPem! });
const holding = (d: SimDevice, cert: Held): SimDevice => Object.assign(d, cert);

/** The same device talking to another server process (on the same data). */
function deviceOn(t: TestServer, d: SimDevice): SimDevice {
  return d.on({ url: t.url, clock: t.clock, rootCaPem: t.rootCaPem });
}

/** Renews the ID certificate and loses the answer, as a device that died before saving it. */
async function renewAndLose(d: SimDevice): Promise<Held> {
  const before = held(d);
  expect((await d.renewId()).status).toBe(200);
  const lost = held(d);
  holding(d, before);
  return lost;
}

async function expectRefused(d: SimDevice, code: string, status = 401): Promise<void> {
  const answer = await d.authorize([{ tag: TAG, count: 1 }]);
  expect(answer.status).toBe(status);
  expect(errorOf(answer).code).toBe(code);
}

describeEachEngine('an ID certificate renewal whose answer was lost', (engine) => {
  const servers: TestServer[] = [];
  const dirs: Array<{ remove(): void }> = [];
  afterEach(async () => {
    // The last started first: the first server's dispose empties the PostgreSQL database they share.
    for (const t of servers.splice(0).reverse()) await t.dispose();
    for (const dir of dirs.splice(0)) dir.remove();
  });

  async function setup(options: { dataDir?: string; clock?: ManualClock } = {}) {
    const t = await startTestServer({ engine, ...options });
    servers.push(t);
    const { vaId } = await t.admin.setupVa();
    await t.admin.addLicense(vaId, { tag: TAG, count: 10 });
    const d = t.device();
    expect((await d.register((await t.admin.createToken(vaId)).token)).status).toBe(200);
    expect((await d.authorize([{ tag: TAG, count: 2 }])).status).toBe(200);
    return { t, vaId, d };
  }

  it('leaves the old certificate accepted until the device uses a new one', async () => {
    const { t, vaId, d } = await setup();
    const old = held(d);
    t.clock.advance(1000);
    const lost = await renewAndLose(d);
    expect(lost.idCertSerial).not.toBe(old.idCertSerial);

    // The device restarted with its old certificate: it still authorizes, more than once.
    t.clock.advance(1000);
    expect((await d.authorize([{ tag: TAG, count: 3 }])).status).toBe(200);
    expect((await d.authorize([{ tag: TAG, count: 4 }])).status).toBe(200);
    expect(await t.admin.listLicenses(vaId)).toMatchObject([{ inUse: 4 }]);

    // And renews again with it: the unused certificate is replaced.
    t.clock.advance(1000);
    expect((await d.renewId()).status).toBe(200);
    const newest = held(d);
    expect(newest.idCertSerial).not.toBe(lost.idCertSerial);
    expect(newest.idCertSerial).not.toBe(old.idCertSerial);
    expect((await t.admin.listInstances(vaId))[0]).toMatchObject({
      id: d.instanceId,
      idCertSerial: newest.idCertSerial,
    });
    // The lost certificate was never accepted after its replacement.
    await expectRefused(holding(d, lost), 'MISSING_SERIALS');

    expect((await holding(d, newest).authorize([{ tag: TAG, count: 5 }])).status).toBe(200);
    expect(await t.admin.listLicenses(vaId)).toMatchObject([{ inUse: 5 }]);
    // Used once, the newest certificate is the only one accepted.
    await expectRefused(holding(d, old), 'MISSING_SERIALS');
    await expectRefused(holding(d, lost), 'MISSING_SERIALS');
    expect(await t.admin.listLicenses(vaId)).toMatchObject([{ inUse: 5 }]);
    expect((await holding(d, newest).authorize([{ tag: TAG, count: 1 }])).status).toBe(200);
  });

  it('forgets the previous certificate as soon as the new one is used', async () => {
    const { d } = await setup();
    const old = held(d);
    expect((await d.renewId()).status).toBe(200);
    const renewed = held(d);
    expect((await d.authorize([{ tag: TAG, count: 2 }])).status).toBe(200);
    await expectRefused(holding(d, old), 'MISSING_SERIALS');
    // A renewal with the old certificate is refused too.
    expect((await d.renewId()).status).toBe(401);
    expect((await holding(d, renewed).authorize([])).status).toBe(200);
  });

  it('refuses the previous certificate once it has expired', async () => {
    const { t, vaId, d } = await setup();
    t.clock.advance(200 * DAY);
    const lost = await renewAndLose(d);
    t.clock.advance(161 * DAY); // the old certificate was valid for 360 days from registration
    await expectRefused(d, 'CERTIFICATE_EXPIRED');
    expect(await t.admin.listLicenses(vaId)).toMatchObject([{ inUse: 2 }]);
    // The instance itself is fine: its current certificate still works.
    expect((await holding(d, lost).authorize([{ tag: TAG, count: 3 }])).status).toBe(200);
  });

  it('deregisters with the previous certificate', async () => {
    const { t, vaId, d } = await setup();
    const lost = await renewAndLose(d);
    expect((await d.deregister()).status).toBe(200);
    expect(await t.admin.listInstances(vaId)).toEqual([]);
    expect(await t.admin.listLicenses(vaId)).toMatchObject([{ inUse: 0 }]);
    await expectRefused(holding(d, lost), 'UNKNOWN_INSTANCE', 404);
  });

  it('keeps the previous certificate across a server restart', async () => {
    const dir = makeTempDir();
    dirs.push(dir);
    const clock = new ManualClock();
    const { t: first, vaId, d } = await setup({ dataDir: dir.path, clock });
    const old = held(d);
    const lost = await renewAndLose(d);
    await first.stop();

    const second = await startTestServer({ engine, dataDir: dir.path, dbUrl: first.dbUrl, clock });
    servers.push(second);
    const resumed = deviceOn(second, d);
    expect((await resumed.authorize([{ tag: TAG, count: 3 }])).status).toBe(200);
    expect(await second.admin.listLicenses(vaId)).toMatchObject([{ inUse: 3 }]);
    expect((await resumed.renewId()).status).toBe(200);
    expect((await resumed.authorize([])).status).toBe(200);
    await expectRefused(holding(resumed, old), 'MISSING_SERIALS');
    await expectRefused(holding(resumed, lost), 'MISSING_SERIALS');
  });

  it('is judged on the shared database, whatever a server process has cached', async () => {
    const dir = makeTempDir();
    dirs.push(dir);
    const clock = new ManualClock();
    const { t: a, d } = await setup({ dataDir: dir.path, clock }); // on server A
    const b = await startTestServer({ engine, dataDir: dir.path, dbUrl: a.dbUrl, clock });
    servers.push(b);
    const old = held(d);
    // B renews; A still caches the old certificate as the current one.
    const lost = await renewAndLose(deviceOn(b, d));
    expect((await d.authorize([{ tag: TAG, count: 3 }])).status).toBe(200);
    expect((await deviceOn(b, d).authorize([{ tag: TAG, count: 3 }])).status).toBe(200);

    // A renews with the old certificate and the device uses the newest one there.
    expect((await d.renewId()).status).toBe(200);
    const newest = held(d);
    expect((await d.authorize([])).status).toBe(200);
    // B still caches the lost certificate as current and the old one as previous: both refused now.
    await expectRefused(deviceOn(b, holding(d, lost)), 'MISSING_SERIALS');
    await expectRefused(deviceOn(b, holding(d, old)), 'MISSING_SERIALS');
    expect((await deviceOn(b, holding(d, newest)).authorize([])).status).toBe(200);
  });
});
