import type { AddressInfo } from 'node:net';
import { HOUR, PROTOCOL_VERSION, signEnvelope } from '@smartlic/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatStatus } from '../status/format-status.js';
import { createConnectProxy } from '../testing/connect-proxy.js';
import { type ProxyProcess, spawnConnectProxy } from '../testing/connect-proxy-process.js';
import { FakeAuthority } from '../testing/fake-authority.js';
import { createRootCa, createSigningCa, issueTlsCertificate } from '../testing/fake-pki.js';
import { type AgentHarness, createAgentHarness } from '../testing/harness.js';

const TAG = 'regid.2014-08.com.example.NetworkAdvantage';
const SEND_FAILED = 'Fail to send out Call Home HTTP message.';

describe('the HTTP(S) proxy transport, against real proxy processes on 127.0.0.1', () => {
  let plain: ProxyProcess;
  let guarded: ProxyProcess;
  let intercepting: ProxyProcess;
  beforeAll(async () => {
    [plain, guarded, intercepting] = await Promise.all([
      spawnConnectProxy(),
      spawnConnectProxy({ auth: { user: 'lic', password: 's3cret:/@' } }),
      spawnConnectProxy({ intercept: true }),
    ]);
  });
  afterAll(() => Promise.all([plain.stop(), guarded.stop(), intercepting.stop()]));

  async function withHarness(https: boolean, body: (h: AgentHarness) => Promise<void>): Promise<void> {
    const h = await createAgentHarness({ fake: { https } });
    h.fake.setLicenses(TAG, 5);
    try {
      await body(h);
    } finally {
      await h.close();
    }
  }

  it('registers and authorizes through a CONNECT tunnel to an HTTPS authority, pinning its root on the way', () =>
    withHarness(true, async (h) => {
      const agent = await h.init();
      expect(await agent.setDestination(h.fake.url, { proxy: plain.url })).toEqual({
        pinnedFingerprint: h.fake.rootFingerprint,
      });
      await agent.use(TAG, 2);
      const outcome = await agent.register(h.fake.createToken());
      expect(outcome).toMatchObject({ ok: true, followUps: [{ action: 'authorize', ok: true }] });
      const target = new URL(h.fake.url).host;
      expect(plain.log.filter((l) => l === `CONNECT ${target} 200`).length).toBeGreaterThanOrEqual(3);
      const status = agent.status();
      expect(status.transport).toMatchObject({ type: 'proxy', url: h.fake.url, proxy: plain.url });
      expect(status.authorization.status).toBe('AUTHORIZED');
      expect(formatStatus(status)).toContain(`Type: Proxy\n  URL: ${h.fake.url}\n  Proxy: ${plain.url}`);
    }));

  it('has an http:// destination forwarded by the proxy (absolute URI)', () =>
    withHarness(false, async (h) => {
      const agent = await h.init();
      await agent.setDestination(h.fake.url, { proxy: plain.url, authorityRootPem: h.fake.rootCaPem });
      expect(await agent.register(h.fake.createToken())).toMatchObject({ ok: true });
      expect(plain.log).toContain(`FORWARD POST ${h.fake.url}/api/v1/device/register 200`);
    }));

  it('sends the credentials of the proxy URL, and says so clearly when the proxy refuses them', () =>
    withHarness(true, async (h) => {
      const agent = await h.init();
      await agent.setDestination(h.fake.url, {
        proxy: guarded.urlWith('lic', 'wrong'),
        authorityRootPem: h.fake.rootCaPem,
      });
      const refused = await agent.register(h.fake.createToken());
      const port = new URL(guarded.url).port;
      expect(refused).toMatchObject({
        ok: false,
        code: 'SEND_FAILED',
        message: `The HTTP proxy 127.0.0.1:${port} refused the user and password of the proxy URL (HTTP 407 Proxy Authentication Required).`,
      });
      expect(agent.status().registration.failureReason).toBe(refused.message);
      expect(guarded.log).toContain(`CONNECT ${new URL(h.fake.url).host} 407`);

      await agent.setDestination(h.fake.url, { proxy: guarded.url });
      expect((await agent.register(h.fake.createToken())).message).toMatch(/requires a user and password \(HTTP 407/);

      await agent.setDestination(h.fake.url, { proxy: guarded.urlWith('lic', 's3cret:/@') });
      expect(await agent.register(h.fake.createToken())).toMatchObject({ ok: true });
      expect(agent.status().transport.proxy).toBe(guarded.url.replace('http://', 'http://lic:*****@'));
    }));

  it('refuses a TLS-intercepting proxy until its CA is imported as a trust point (seed 003)', () =>
    withHarness(true, async (h) => {
      const agent = await h.init();
      await agent.setDestination(h.fake.url, { proxy: intercepting.url, authorityRootPem: h.fake.rootCaPem });
      const refused = await agent.register(h.fake.createToken());
      expect(refused).toMatchObject({
        ok: false,
        message: 'SSL certificate problem: self-signed certificate in certificate chain',
      });
      expect(h.eventNames()).toContain('%SMART_LIC-3-COMM_FAILED');
      expect(h.fake.count('register')).toBe(0);

      await agent.setDestination(h.fake.url, { proxy: intercepting.url, trustPem: intercepting.caPem });
      expect(agent.status().transport).toMatchObject({ trustAnchors: 1, tlsTrustPoints: 1 });
      expect(await agent.register(h.fake.createToken())).toMatchObject({ ok: true });
      expect(intercepting.log).toContain('INTERCEPT POST /api/v1/device/register 200');
    }));

  describe("never takes a TLS trust point (the intercepting proxy's CA) as a signer of licensing answers", () => {
    it('works through the interceptor, then refuses an authorization it forged, keeping its state', () =>
      withHarness(true, async (h) => {
        // An intercepting proxy in this process, so that the test holds its CA's key as the forger does.
        const proxyCa = await createRootCa('CN=Forging TLS Proxy, O=smartlic test', Date.now());
        const leaf = await issueTlsCertificate(proxyCa);
        const log: string[] = [];
        const proxy = createConnectProxy(
          { intercept: { certPem: `${leaf.certPem}\n${proxyCa.pem}`, keyPem: leaf.keyPem } },
          (line) => log.push(line),
        );
        await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
        const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
        try {
          const agent = await h.init();
          await agent.setDestination(h.fake.url, {
            proxy: proxyUrl,
            authorityRootPem: h.fake.rootCaPem,
            trustPem: proxyCa.pem,
          });
          expect(agent.status().transport).toMatchObject({ trustAnchors: 1, tlsTrustPoints: 1 });
          await agent.use(TAG, 2);
          expect(await agent.register(h.fake.createToken())).toMatchObject({ ok: true });
          expect(log).toContain('INTERCEPT POST /api/v1/device/authorize 200');
          const before = agent.status();
          expect(before.authorization.status).toBe('AUTHORIZED');

          // The interceptor answers the next authorization itself, signed by a certificate under its CA.
          const forger = await createSigningCa(proxyCa, h.fake.signer.cert.subject, h.clock.now());
          h.clock.advance(HOUR);
          const now = h.clock.now();
          const forged = {
            version: PROTOCOL_VERSION,
            timestamp: now,
            nonce: 'forged',
            type: 'authorize-response',
            instanceId: before.identity.instanceId,
            status: 'InCompliance',
            entitlements: [{ tag: TAG, requested: 2, status: 'InCompliance' }],
            authorizedAt: now,
            expiresAt: now + 365 * 24 * HOUR,
            renewIntervalMs: 30 * 24 * HOUR,
            retryIntervalMs: HOUR,
          };
          const body = JSON.stringify(signEnvelope(forged, forger.pair.privateKey, forger.serial));
          h.fake.override('authorize', { raw: { status: 200, body } });
          expect(await agent.renewAuthorization()).toMatchObject({
            ok: false,
            code: 'SIGNATURE_MISMATCH',
            message: 'Data and signature do not match',
          });
          const after = agent.status();
          expect(after.authorization).toMatchObject({
            status: 'AUTHORIZED',
            since: before.authorization.since,
            communicationDeadline: before.authorization.communicationDeadline,
            failureReason: 'Data and signature do not match',
          });
          expect(after.registration).toEqual(before.registration);
          expect(after.identity).toEqual(before.identity);
          expect(after.transport).toEqual(before.transport);
        } finally {
          proxy.closeAllConnections();
          await new Promise<void>((resolve) => proxy.close(() => resolve()));
        }
      }));

    // A forging interceptor shows the device a TLS peer vouched for by its CA, answering with messages
    // signed under that CA. `impostor` plays it whole: a fake authority whose root CA (key included)
    // is the interceptor's CA, so its registration answers are complete and well formed.
    async function withImpostor(h: AgentHarness, body: (impostor: FakeAuthority) => Promise<void>): Promise<void> {
      const impostor = await FakeAuthority.start({ https: true, clock: h.clock });
      try {
        await body(impostor);
      } finally {
        await impostor.close();
      }
    }

    it('refuses a forged registration: the TLS peer is trusted, its signer is not', () =>
      withHarness(false, (h) =>
        withImpostor(h, async (impostor) => {
          const agent = await h.init();
          // The authority root (its own name: TLS looks issuers up by name, and both fakes share one).
          const authorityRoot = await createRootCa('CN=the authority root, O=smartlic test', h.clock.now());
          await agent.setDestination(impostor.url, {
            authorityRootPem: authorityRoot.pem,
            trustPem: impostor.rootCaPem,
          });
          const before = agent.status();
          expect(await agent.register(impostor.createToken())).toMatchObject({
            ok: false,
            message: 'Data and signature do not match',
          });
          expect(impostor.count('register')).toBe(1);
          expect(h.events.find((e) => e.type === 'AGENT_REG_FAILED')?.message).toContain(
            'not issued by a trusted authority',
          );
          const after = agent.status();
          expect(after.registration).toMatchObject({
            status: 'REGISTRATION FAILED',
            idCertSerial: null,
            smartAccount: null,
          });
          expect(after.identity).toEqual(before.identity);
          expect(after.transport).toEqual(before.transport);
        }),
      ));

    it('accepts the same answers only from a CA given as the authority root', () =>
      withHarness(false, (h) =>
        withImpostor(h, async (impostor) => {
          const agent = await h.init();
          await agent.setDestination(impostor.url, { authorityRootPem: impostor.rootCaPem });
          expect(await agent.register(impostor.createToken())).toMatchObject({ ok: true });
        }),
      ));
  });

  it('says "Fail to send out Call Home HTTP message." when the proxy is down, with the next attempts', async () => {
    const doomed = await spawnConnectProxy();
    await withHarness(true, async (h) => {
      const agent = await h.init();
      await agent.setDestination(h.fake.url, { proxy: doomed.url, authorityRootPem: h.fake.rootCaPem });
      await agent.use(TAG, 1);
      expect(await agent.register(h.fake.createToken())).toMatchObject({ ok: true });
      await doomed.stop();

      h.clock.advance(31 * 24 * HOUR);
      const [renewal] = await agent.runDue();
      expect(renewal).toMatchObject({ action: 'authorize', ok: false, message: SEND_FAILED });
      const text = formatStatus(agent.status());
      expect(text).toMatch(/Last Communication Attempt: FAILED on .+\n {2}Failure reason: Fail to send out Call Home/);
      expect(text).toMatch(/Next Communication Attempt: \w{3} \d\d [\d:]+ 2026 UTC/);
      expect(text).toContain('Communication Deadline:');
      const failed = h.events.find((e) => e.type === 'COMM_FAILED');
      expect(failed?.message).toMatch(/HTTP proxy 127\.0\.0\.1:\d+: connect ECONNREFUSED/);

      const other = await createAgentHarness();
      try {
        const fresh = await other.init();
        await fresh.setDestination(h.fake.url, { proxy: doomed.url, authorityRootPem: h.fake.rootCaPem });
        expect(await fresh.register(h.fake.createToken())).toMatchObject({ ok: false, message: SEND_FAILED });
        const text2 = formatStatus(fresh.status());
        expect(text2).toContain('Status: REGISTERING - REGISTRATION IN PROGRESS');
        expect(text2).toContain(`Failure reason: ${SEND_FAILED}`);
        expect(text2).toMatch(/Next Registration Attempt: \w{3} \d\d [\d:]+ 2026 UTC/);
      } finally {
        await other.close();
      }
    });
  });
});
