import { X509Certificate } from 'node:crypto';
import type { Envelope } from '@smartlic/protocol';
import { DAY, ManualClock } from '@smartlic/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer } from '../../start-server.js';
import { SimDevice } from '../../test-support/sim-device.js';
import { makeTempDir } from '../../test-support/temp-dir.js';
import { makeAuthorityDir, registerSatelliteCa, seedSatelliteDatabase } from '../../test-support/test-satellite.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

const TAG = 'regid.2014-08.com.example.A';

describe('a satellite server (--mode satellite)', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function satelliteWithVa(clock: ManualClock) {
    const authority = await makeAuthorityDir(clock);
    cleanup.push(() => authority.remove());
    const dir = makeTempDir();
    cleanup.push(() => dir.remove());
    const va = await seedSatelliteDatabase(dir.path, clock, async (admin) => {
      const seeded = await admin.setupVa('Site Corp');
      await admin.addLicense(seeded.vaId, { tag: TAG, count: 10, name: 'Product A' });
      return seeded;
    });
    const t = await startTestServer({
      dataDir: dir.path,
      clock,
      mode: 'satellite',
      upstream: 'http://127.0.0.1:9/',
    });
    cleanup.push(() => t.stop());
    return { authority, dir: dir.path, va, t };
  }

  it('serves its admin API before registration, answers devices with one sentence, and serves them once registered', async () => {
    const clock = new ManualClock();
    const { authority, dir, va, t } = await satelliteWithVa(clock);
    expect(t.server.mode).toBe('satellite');
    expect(t.server.pki.ready).toBe(false);
    expect((await t.admin.request('GET', '/api/v1/health')).body).toMatchObject({ mode: 'satellite' });
    const token = await t.admin.createToken(va.vaId);

    const rootCaPem = (await import('node:fs')).readFileSync(`${authority.path}/pki/root-ca.pem`, 'utf8');
    const device = new SimDevice({ url: `${t.url}/SmartTransport`, clock, rootCaPem }, { pid: 'C9300', sn: 'S1' });
    const refused = await device.register(token.token);
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({
      code: 'SATELLITE_NOT_REGISTERED',
      message: expect.stringMatching(/^This satellite is not registered yet: run smartlic admin sync register/),
    });
    expect((await t.admin.request('GET', '/api/v1/pki/root-ca')).status).toBe(503);

    const issued = await registerSatelliteCa({
      issuerDir: authority.path,
      satelliteDir: dir,
      name: 'site',
      now: clock.now(),
      pki: t.server.pki,
    });
    expect(t.server.pki.ready).toBe(true);
    const registered = await device.register(token.token);
    expect(registered.status).toBe(200);
    const satelliteCa = new X509Certificate(issued.certificatePem);
    expect(device.signingCertSerial).toBe(t.server.pki.current().signingCertSerial);
    expect(new X509Certificate(device.idCertPem!).checkIssued(satelliteCa)).toBe(true);
    const authorized = await device.authorize([{ tag: TAG, count: 4 }]);
    expect(authorized.status).toBe(200);
    expect((authorized.body as Envelope<{ status: string }>).payload.status).toBe('InCompliance');
    // The plain device routes answer too.
    const direct = device.on({ url: t.url, clock, rootCaPem });
    expect((await direct.authorize([{ tag: TAG, count: 4 }])).status).toBe(200);
    expect((await t.admin.listLicenses(va.vaId))[0]).toMatchObject({ quantity: 10, inUse: 4 });
  });

  it('serves devices that trust only the root through a chain: a satellite under a satellite', async () => {
    const clock = new ManualClock();
    const { authority, dir, va, t } = await satelliteWithVa(clock);
    const sat1 = makeTempDir();
    cleanup.push(() => sat1.remove());
    const sat1Ca = await registerSatelliteCa({
      issuerDir: authority.path,
      satelliteDir: sat1.path,
      name: 'region',
      now: clock.now(),
    });
    await registerSatelliteCa({
      issuerDir: sat1.path,
      satelliteDir: dir,
      name: 'site',
      now: clock.now(),
      pki: t.server.pki,
    });
    const token = await t.admin.createToken(va.vaId);
    const device = new SimDevice(
      { url: `${t.url}/SmartTransport`, clock, rootCaPem: sat1Ca.rootCaPem },
      { pid: 'C9300', sn: 'S2' },
    );
    const registered = await device.register(token.token);
    expect(registered.status).toBe(200);
    const body = registered.body as Envelope & { chain?: string[] };
    expect(body.chain?.map((p) => p.trim())).toEqual([sat1Ca.certificatePem.trim()]);
    expect((await device.authorize([{ tag: TAG, count: 1 }])).status).toBe(200);
  });

  it('answers devices that name the certificate a renewal replaced, before and after a restart, and hands them the new one', async () => {
    const clock = new ManualClock();
    const { authority, dir, va, t } = await satelliteWithVa(clock);
    const first = await registerSatelliteCa({
      issuerDir: authority.path,
      satelliteDir: dir,
      name: 'site',
      now: clock.now(),
      pki: t.server.pki,
    });
    clock.advance(100 * DAY);
    const token = await t.admin.createToken(va.vaId);
    const device = new SimDevice({ url: t.url, clock, rootCaPem: first.rootCaPem }, { pid: 'C9300', sn: 'R1' });
    expect((await device.register(token.token)).status).toBe(200);
    const firstSerial = device.signingCertSerial;
    const idCertExpiry = new X509Certificate(device.idCertPem!).validTo;
    expect(Date.parse(idCertExpiry)).toBeGreaterThan(first.notAfter); // not cut to the satellite CA

    clock.advance(200 * DAY);
    const renewed = await registerSatelliteCa({
      issuerDir: authority.path,
      satelliteDir: dir,
      name: 'site',
      now: clock.now(),
      pki: t.server.pki,
    });
    const stale = device.on({ url: t.url, clock, rootCaPem: first.rootCaPem });
    const answer = await device.authorize([{ tag: TAG, count: 1 }]);
    expect(answer.status).toBe(200);
    expect((answer.body as Envelope & { signer?: string }).signer?.trim()).toBe(renewed.certificatePem.trim());
    expect(device.signingCertSerial).not.toBe(firstSerial);
    const next = await device.authorize([{ tag: TAG, count: 1 }]);
    expect((next.body as Envelope & { signer?: string }).signer).toBeUndefined();

    // After a restart the earlier serial is still known (previous-signing.pem), even once it expired.
    await t.stop();
    const again = await startTestServer({ dataDir: dir, clock, mode: 'satellite' });
    cleanup.push(() => again.stop());
    clock.advance(70 * DAY);
    const late = stale.on({ url: again.url, clock, rootCaPem: first.rootCaPem });
    expect((await late.authorize([{ tag: TAG, count: 1 }])).status).toBe(200);
    expect(late.signingCertSerial).toBe(device.signingCertSerial);
  });

  it('once its signing certificate has expired: registrations get 503, registered devices MISSING_SERIALS, nothing changes', async () => {
    const clock = new ManualClock();
    const { authority, dir, va, t } = await satelliteWithVa(clock);
    const issued = await registerSatelliteCa({
      issuerDir: authority.path,
      satelliteDir: dir,
      name: 'site',
      now: clock.now(),
      pki: t.server.pki,
      validityMs: 10 * DAY,
    });
    const token = await t.admin.createToken(va.vaId, { maxUses: 5 });
    const device = new SimDevice({ url: t.url, clock, rootCaPem: issued.rootCaPem }, { pid: 'C9300', sn: 'E1' });
    expect((await device.register(token.token)).status).toBe(200);
    expect((await device.authorize([{ tag: TAG, count: 2 }])).status).toBe(200);
    clock.advance(10 * DAY);
    const renewal = await device.authorize([{ tag: TAG, count: 5 }]);
    expect(renewal.status).toBe(401);
    expect(renewal.body).toMatchObject({
      code: 'MISSING_SERIALS',
      message:
        'Missing ID Cert Serial Number Field; Missing Signing Cert Serial Number Field; Signed Data and Certificate do not match',
    });
    const newcomer = new SimDevice({ url: t.url, clock, rootCaPem: issued.rootCaPem }, { pid: 'C9300', sn: 'E2' });
    const refused = await newcomer.register(token.token);
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ code: 'SIGNING_CERTIFICATE_EXPIRED' });
    expect((await t.admin.listLicenses(va.vaId))[0]).toMatchObject({ inUse: 2 });
    expect(await t.admin.listInstances(va.vaId)).toHaveLength(1);
  });

  it('refuses to start an authority data directory as a satellite, and --tls auto before registration', async () => {
    const clock = new ManualClock();
    const authority = await makeAuthorityDir(clock);
    cleanup.push(() => authority.remove());
    await expect(
      startServer({ dataDir: authority.path, port: 0, mode: 'satellite', logLevel: 'silent', clock }),
    ).rejects.toThrow(/is an authority's data directory .* start it without --mode satellite/);
    const dir = makeTempDir();
    cleanup.push(() => dir.remove());
    await expect(
      startServer({ dataDir: dir.path, port: 0, mode: 'satellite', logLevel: 'silent', clock, tls: { mode: 'auto' } }),
    ).rejects.toThrow(/register it, then restart it with --tls auto/);
  });
});

describe('the authority', () => {
  let t: TestServer;
  afterEach(async () => t.dispose());

  it('serves the device routes under /SmartTransport too', async () => {
    t = await startTestServer();
    const { vaId } = await t.admin.setupVa();
    const token = await t.admin.createToken(vaId);
    const device = new SimDevice(
      { url: `${t.url}/SmartTransport`, clock: t.clock, rootCaPem: t.rootCaPem },
      {
        pid: 'C9300',
        sn: 'S3',
      },
    );
    expect((await device.register(token.token)).status).toBe(200);
    expect((await device.authorize([{ tag: TAG, count: 1 }])).status).toBe(200);
    expect(t.server.mode).toBe('authority');
  });
});
