import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, DAY, ManualClock, SECOND } from '@smartlic/agent';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../packages/server/src/test-support/test-server.js';
import { CPS_PER_LICENSE, CUSP_TAG, startCuspProxy } from '../src/cusp-proxy.js';

type Proxy = Awaited<ReturnType<typeof startCuspProxy>>;

/** Places `n` calls; answers the HTTP status of each. */
async function call(proxy: Proxy, n = 1): Promise<number[]> {
  const codes: number[] = [];
  for (let i = 0; i < n; i++) codes.push((await fetch(`${proxy.url}/invite`, { method: 'POST' })).status);
  return codes;
}

describe('examples/cusp-proxy: a SIP-proxy-like product with the CUSP profile, against a real authority', () => {
  let clock: ManualClock;
  let server: TestServer;
  let dir: string;
  let agent: Agent | undefined;
  let proxy: Proxy | undefined;

  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2026, 0, 1));
    server = await startTestServer({ clock });
    dir = await mkdtemp(join(tmpdir(), 'cusp-proxy-'));
  });
  afterEach(async () => {
    await proxy?.close();
    await agent?.close();
    await server.dispose();
    await rm(dir, { recursive: true, force: true });
    proxy = undefined;
    agent = undefined;
  });

  async function product(licenses: number): Promise<Proxy> {
    agent = await Agent.init(
      { pid: 'CUSP', sn: `SN${Math.floor(Math.random() * 1e9)}`, profile: 'cusp' },
      { stateDir: join(dir, 'state'), clock, random: () => 0 },
    );
    await agent.setDestination(server.url, { authorityRootPem: server.rootCaPem });
    await agent.use(CUSP_TAG, licenses);
    proxy = await startCuspProxy({ agent, cpsTimer: false });
    return proxy;
  }

  async function token(licensed: number): Promise<string> {
    const { vaId } = await server.admin.setupVa();
    await server.admin.addLicense(vaId, { tag: CUSP_TAG, count: licensed, name: 'CUSP 5 CPS' });
    return (await server.admin.createToken(vaId)).token;
  }

  it('EVAL MODE: calls go through; above the licensed CPS they get 503 until the 5-minute average falls', async () => {
    const p = await product(1);
    expect(agent?.status().authorization.status).toBe('EVAL MODE');
    // 30 s at 8 calls/s against 1 license × 5 calls/s: accepted until the snapshot…
    expect(new Set(await call(p, 240))).toEqual(new Set([200]));
    clock.advance(30 * SECOND);
    p.cps.update();
    expect(p.cps.licensedCps).toBe(CPS_PER_LICENSE);
    // …then the average (8/s) is over the licence: calls are refused.
    expect(await call(p, 3)).toEqual([503, 503, 503]);
    const refused = await fetch(`${p.url}/invite`, { method: 'POST' });
    expect(await refused.text()).toContain('Calls per second above the licensed rate.');
    // A quiet 30 s: the average over two snapshots is (240 + 4) / 60 s ≈ 4.1/s ≤ 5: calls go through again.
    clock.advance(30 * SECOND);
    p.cps.update();
    expect(await call(p, 1)).toEqual([200]);
  });

  it('EVAL EXPIRED: every call is refused with 503, whatever the rate', async () => {
    const p = await product(1);
    expect(await call(p)).toEqual([200]);
    clock.advance(90 * DAY + SECOND);
    expect(agent?.status().authorization.status).toBe('EVAL EXPIRED');
    const refused = await fetch(`${p.url}/invite`, { method: 'POST' });
    expect(refused.status).toBe(503);
    expect(await refused.text()).toMatch(/^SIP\/2\.0 503 Service Unavailable\r\nReason: .*evaluation/i);
  });

  it('AUTHORIZED and OUT OF COMPLIANCE: calls go through; AUTHORIZATION EXPIRED: refused', async () => {
    const idToken = await token(1);
    const p = await product(2); // uses 2 licenses, 1 bought: out of compliance
    const outcome = await agent!.register(idToken);
    expect(outcome.ok).toBe(true);
    expect(agent?.status().authorization.status).toBe('OUT OF COMPLIANCE');
    expect(await call(p, 2)).toEqual([200, 200]);
    // Out of compliance is reported, never enforced: the licensed rate is still that of 2 licenses.
    p.cps.update();
    clock.advance(30 * SECOND);
    p.cps.update();
    expect(p.cps.licensedCps).toBe(2 * CPS_PER_LICENSE);

    await agent!.use(CUSP_TAG, 1);
    await agent!.renewAuthorization();
    expect(agent?.status().authorization.status).toBe('AUTHORIZED');
    expect(await call(p)).toEqual([200]);

    // No renewal reaches the authority for 90 days: the authorization expires and calls stop.
    await server.stop();
    clock.advance(91 * DAY);
    expect(agent?.status().authorization.status).toBe('AUTHORIZATION EXPIRED');
    expect(await call(p)).toEqual([503]);
  });
});
