import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, DAY, ManualClock, SECOND } from '@smartlic/agent';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../packages/server/src/test-support/test-server.js';
import { ROOM_TAG, startRoomsRegistrar } from '../src/rooms-registrar.js';

type Registrar = Awaited<ReturnType<typeof startRoomsRegistrar>>;

const alarmFor = (n: number) =>
  'Room system license limit reached. A TelePresence room system registration failed because there were no ' +
  `available room system licenses. You are licensed for ${n} concurrent TelePresence room system registrations.`;

describe('examples/expressway-rooms: counted room-system registrations with the Expressway profile, against a real authority', () => {
  let clock: ManualClock;
  let server: TestServer;
  let dir: string;
  let agent: Agent | undefined;
  let registrar: Registrar | undefined;

  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2026, 0, 1));
    server = await startTestServer({ clock });
    dir = await mkdtemp(join(tmpdir(), 'expressway-rooms-'));
  });
  afterEach(async () => {
    await registrar?.close();
    await agent?.close();
    await server.dispose();
    await rm(dir, { recursive: true, force: true });
    registrar = undefined;
    agent = undefined;
  });

  async function product(rooms: number): Promise<Registrar> {
    agent = await Agent.init(
      { pid: 'EXPWY-VM', sn: `SN${Math.floor(Math.random() * 1e9)}`, profile: 'expressway' },
      { stateDir: join(dir, 'state'), clock, random: () => 0 },
    );
    await agent.setDestination(server.url, { authorityRootPem: server.rootCaPem });
    await agent.use(ROOM_TAG, rooms);
    registrar = await startRoomsRegistrar({ agent });
    return registrar;
  }

  async function send(method: string, path: string): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${registrar!.url}${path}`, { method });
    const text = await response.text();
    return {
      status: response.status,
      body: response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
    };
  }

  it('EVAL MODE: room systems up to the declared count; the next one is refused with "License limit exceeded" and the alarm', async () => {
    await product(2);
    expect((await send('GET', '/license')).body).toMatch(/^Evaluation: 90 days left\nEnforcement: allow\n/);
    expect((await send('PUT', '/rooms/boardroom')).status).toBe(200);
    expect((await send('PUT', '/rooms/huddle')).status).toBe(200);
    expect((await send('PUT', '/rooms/huddle')).status).toBe(200); // the same room again: no second license
    expect(await send('PUT', '/rooms/lobby')).toEqual({
      status: 403,
      body: { error: 'License limit exceeded', licensed: 2, rooms: 2 },
    });
    expect((await send('GET', '/alarms')).body).toEqual([
      { name: '%SMART_LIC-4-LICENSE_LIMIT_REACHED', message: alarmFor(2) },
    ]);
    // A room leaves: its license is free for the next one.
    expect((await send('DELETE', '/rooms/huddle')).status).toBe(200);
    expect((await send('PUT', '/rooms/lobby')).status).toBe(200);
    expect((await send('POST', '/cluster/peers')).status).toBe(200);
  });

  it('AUTHORIZED: up to the licensed count, the alarm naming it', async () => {
    const { vaId } = await server.admin.setupVa();
    await server.admin.addLicense(vaId, { tag: ROOM_TAG, count: 3, name: 'Room System' });
    const { token } = await server.admin.createToken(vaId);
    await product(3);
    expect((await agent!.register(token)).ok).toBe(true);
    expect(agent!.status().authorization.status).toBe('AUTHORIZED');
    for (const room of ['a', 'b', 'c']) expect((await send('PUT', `/rooms/${room}`)).status).toBe(200);
    expect(await send('PUT', '/rooms/d')).toMatchObject({
      status: 403,
      body: { error: 'License limit exceeded', licensed: 3 },
    });
    expect((await send('GET', '/alarms')).body).toEqual([
      { name: '%SMART_LIC-4-LICENSE_LIMIT_REACHED', message: alarmFor(3) },
    ]);
  });

  it('EVAL EXPIRED: restricted, cluster changes refused', async () => {
    await product(1);
    clock.advance(90 * DAY + SECOND);
    expect(agent!.status().authorization.status).toBe('EVAL EXPIRED');
    const refused = await send('POST', '/cluster/peers');
    expect(refused.status).toBe(403);
    expect((refused.body as { error: string }).error).toMatch(/evaluation/i);
    expect((await send('GET', '/license')).body).toMatch(/^Enforcement: restricted\n/);
  });
});
