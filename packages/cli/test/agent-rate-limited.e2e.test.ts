import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, formatStatus, RETRY_AFTER_SPREAD_MS } from '@smartlic/agent';
import { ManualClock } from '@smartlic/protocol';
import { type RunningServer, startServer } from '@smartlic/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const TAG = 'regid.2026-01.com.example.rate';
const T0 = Date.UTC(2026, 0, 1);
/** The jitter draw of every agent here: half of the spread after a Retry-After. */
const U = 0.5;

/** The seconds a 429's reason tells the device to wait. */
function waitOf(reason: string | null | undefined): number {
  const match = /^Too many requests from this client: wait (\d+) seconds, then try again\.$/.exec(reason ?? '');
  expect(match, `a rate-limit reason, not "${reason}"`).not.toBeNull();
  return Number(match?.[1]);
}

const iso = (ms: number) => new Date(ms).toISOString();

/** When an agent with draw `U` tries again after being told to wait `seconds`. */
function expectedRetry(now: number, seconds: number): number {
  return now + seconds * 1000 + Math.floor(U * Math.max(seconds * 1000, RETRY_AFTER_SPREAD_MS));
}

describe('the agent against an authority that rate-limits it', () => {
  const clock = new ManualClock(T0);
  let dir: string;
  let server: RunningServer;
  let token: string;
  const agents: Agent[] = [];

  async function device(sn: string): Promise<Agent> {
    const agent = await Agent.init(
      { pid: 'C9300-24UX', sn },
      { stateDir: join(dir, sn), clock, random: () => U, requestTimeoutMs: 5_000 },
    );
    agents.push(agent);
    await agent.setDestination(server.url, { authorityRootPem: await readFile(server.rootCaPath, 'utf8') });
    return agent;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smartlic-rate-'));
    server = await startServer({
      dataDir: join(dir, 'authority'),
      port: 0,
      clock,
      logLevel: 'silent',
      rateLimits: { register: 1, device: 2 },
    });
    const key = (await readFile(server.adminKeyPath, 'utf8')).trim();
    const api = async <T>(path: string, body: unknown): Promise<T> => {
      const response = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status, path).toBe(201);
      return (await response.json()) as T;
    };
    const account = await api<{ id: string }>('/api/v1/accounts', { name: 'Rate Corp' });
    const va = await api<{ id: string }>(`/api/v1/accounts/${account.id}/virtual-accounts`, { name: 'Lab' });
    await api(`/api/v1/virtual-accounts/${va.id}/licenses`, { tag: TAG, count: 10 });
    token = (await api<{ token: string }>(`/api/v1/virtual-accounts/${va.id}/tokens`, {})).token;
  });
  afterAll(async () => {
    for (const agent of agents) await agent.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps REGISTERING after a 429, and tries again no earlier than Retry-After plus jitter', async () => {
    const first = await device('SN-FIRST');
    expect(await first.register(token)).toMatchObject({ ok: true });

    const second = await device('SN-SECOND');
    const refused = await second.register(token);
    expect(refused).toMatchObject({ ok: false, code: 'RATE_LIMITED' });
    const s = second.status();
    const seconds = waitOf(s.registration.failureReason);
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(60);
    expect(s.registration.status).toBe('REGISTERING');
    expect(s.registration.nextRegistrationAttempt).toBe(iso(expectedRetry(T0, seconds)));
    expect(second.nextWakeAt()).toBe(expectedRetry(T0, seconds));
    const text = formatStatus(s);
    expect(text).toContain(`Failure reason: Too many requests from this client: wait ${seconds} seconds`);
    expect(text).toMatch(/Next Registration Attempt: /);
    // Nothing is due before then: the device does not hammer the authority.
    clock.set(expectedRetry(T0, seconds) - 1);
    expect(await second.runDue()).toEqual([]);
  });

  it('tries an authorization refused with 429 again no earlier than Retry-After plus jitter', async () => {
    clock.set(T0 + 60 * 60_000);
    const agent = agents[0]!;
    // Two messages a minute for this instance: using a license authorizes at once, then two renewals.
    const outcomes = [await agent.use(TAG, 1), await agent.renewAuthorization(), await agent.renewAuthorization()];
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, false]);
    expect(outcomes[2]).toMatchObject({ code: 'RATE_LIMITED' });
    const a = agent.status().authorization;
    const seconds = waitOf(a.failureReason);
    expect(a.status).toBe('AUTHORIZED');
    expect(a.nextCommunicationAttempt).toBe(iso(expectedRetry(clock.now(), seconds)));
  });
});
