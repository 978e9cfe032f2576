import { HOUR } from '@smartlic/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatStatus } from '../status/format-status.js';
import { type ProxyProcess, spawnConnectProxy } from '../testing/connect-proxy-process.js';
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
      await agent.setDestination(h.fake.url, { proxy: plain.url, trustPem: h.fake.rootCaPem });
      expect(await agent.register(h.fake.createToken())).toMatchObject({ ok: true });
      expect(plain.log).toContain(`FORWARD POST ${h.fake.url}/api/v1/device/register 200`);
    }));

  it('sends the credentials of the proxy URL, and says so clearly when the proxy refuses them', () =>
    withHarness(true, async (h) => {
      const agent = await h.init();
      await agent.setDestination(h.fake.url, {
        proxy: guarded.urlWith('lic', 'wrong'),
        trustPem: h.fake.rootCaPem,
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
      await agent.setDestination(h.fake.url, { proxy: intercepting.url, trustPem: h.fake.rootCaPem });
      const refused = await agent.register(h.fake.createToken());
      expect(refused).toMatchObject({
        ok: false,
        message: 'SSL certificate problem: self-signed certificate in certificate chain',
      });
      expect(h.eventNames()).toContain('%SMART_LIC-3-COMM_FAILED');
      expect(h.fake.count('register')).toBe(0);

      await agent.setDestination(h.fake.url, { proxy: intercepting.url, trustPem: intercepting.caPem });
      expect(await agent.register(h.fake.createToken())).toMatchObject({ ok: true });
      expect(intercepting.log).toContain('INTERCEPT POST /api/v1/device/register 200');
    }));

  it('says "Fail to send out Call Home HTTP message." when the proxy is down, with the next attempts', async () => {
    const doomed = await spawnConnectProxy();
    await withHarness(true, async (h) => {
      const agent = await h.init();
      await agent.setDestination(h.fake.url, { proxy: doomed.url, trustPem: h.fake.rootCaPem });
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
        await fresh.setDestination(h.fake.url, { proxy: doomed.url, trustPem: h.fake.rootCaPem });
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
