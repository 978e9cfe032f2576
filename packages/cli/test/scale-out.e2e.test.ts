import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEVICE_ROUTES, systemClock } from '@smartlic/protocol';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LISTENER_APPLICATION_NAME } from '../../server/src/cluster/postgres-change-feed.js';
import type { Engine } from '../../server/src/storage/database.js';
import { AdminClient } from '../../server/src/test-support/admin-client.js';
import {
  acquireTestDatabase,
  describeEachEngine,
  type LeasedDatabase,
  postgresUrl,
} from '../../server/src/test-support/postgres.js';
import { type DeviceContext, errorOf, SimDevice } from '../../server/src/test-support/sim-device.js';
import { type ServerProcess, startServerProcess, tempDir } from './harness.js';

const TAG = 'regid.2014-08.com.example.A';
const TAG_B = 'regid.2014-08.com.example.B';
const SERVER_ARGS = ['--rate-limit', 'off', '--log-level', 'silent'];

interface Cluster {
  /** The PostgreSQL database's URL; undefined on SQLite. */
  dbUrl?: string | undefined;
  servers: ServerProcess[];
  admins: AdminClient[];
  devices: DeviceContext[];
}

/**
 * `count` real `smartlic server` processes on one data directory and (on PostgreSQL) one
 * database: the first creates the PKI, secrets and schema, the others start on them.
 */
function useCluster(lifetime: 'test' | 'file' = 'test') {
  const cleanups: Array<() => Promise<void>> = [];
  (lifetime === 'test' ? afterEach : afterAll)(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return async (engine: Engine, count: number, options: { together?: boolean } = {}): Promise<Cluster> => {
    const dir = await tempDir('smartlic-scale-');
    cleanups.push(dir.cleanup);
    const args = [...SERVER_ARGS];
    let dbUrl: string | undefined;
    if (engine === 'postgres') {
      const database: LeasedDatabase = await acquireTestDatabase();
      cleanups.push(database.release);
      dbUrl = database.url;
      args.push('--db', dbUrl);
    }
    const dataDir = join(dir.path, 'data');
    const servers: ServerProcess[] = [];
    const start = async () => {
      const server = await startServerProcess(dataDir, {}, 0, args);
      cleanups.push(server.stop);
      return server;
    };
    if (options.together) servers.push(...(await Promise.all(Array.from({ length: count }, start))));
    else for (let i = 0; i < count; i++) servers.push(await start());
    const rootCaPem = await readFile(servers[0]!.rootCaPath, 'utf8');
    return {
      dbUrl,
      servers,
      admins: servers.map((s) => new AdminClient(s.url, s.apiKey)),
      devices: servers.map((s) => ({ url: s.url, clock: systemClock, rootCaPem })),
    };
  };
}

let accounts = 0;
/** A Smart Account name (and so domain) of its own for each test: several share one database. */
function accountName(): string {
  return `Acme ${++accounts}`;
}

function statusOf(answer: { body: unknown }): string {
  return (answer.body as { payload: { status: string } }).payload.status;
}

describe.skipIf(!postgresUrl())('several smartlic server processes on one PostgreSQL', () => {
  const cluster = useCluster();
  // Two processes that the tests below share (each uses its own VA, devices and tags); starting them costs seconds.
  const startShared = useCluster('file');
  let shared: Promise<Cluster> | undefined;
  const pair = () => {
    shared ??= startShared('postgres', 2);
    return shared;
  };

  it('counts 36 concurrent registrations over two processes exactly, and refuses a replay to the other one', async () => {
    const { admins, devices } = await pair();
    const [a, b] = admins as [AdminClient, AdminClient];
    const { vaId } = await a.setupVa(accountName());
    await a.addLicense(vaId, { tag: TAG, count: 30 });
    const token = await b.createToken(vaId, { maxUses: 100 });

    const fleet = Array.from(
      { length: 36 },
      (_, i) => new SimDevice(devices[i % 2]!, { pid: 'C9300-24UX', sn: `S${i}` }),
    );
    const registered = await Promise.all(fleet.map((d) => d.register(token.token)));
    for (const answer of registered) expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(new Set(fleet.map((d) => d.instanceId)).size).toBe(36);

    // Each device authorizes through the other process than the one it registered with.
    const moved = fleet.map((d, i) => d.on(devices[(i + 1) % 2]!));
    const first = await Promise.all(moved.map((d) => d.authorize([{ tag: TAG, count: 1 }])));
    for (const answer of first) expect(answer.status, JSON.stringify(answer.body)).toBe(200);

    for (const admin of admins) {
      expect(await admin.listInstances(vaId)).toHaveLength(36);
      expect(await admin.listLicenses(vaId)).toEqual([
        expect.objectContaining({ tag: TAG, quantity: 30, inUse: 36, surplus: -6 }),
      ]);
      expect((await admin.listTokens(vaId)).find((t) => t.id === token.id)?.uses).toBe(36);
    }
    // Renewals through either process see the shortfall.
    for (const [i, device] of fleet.entries()) {
      const answer = await device.on(devices[i % 2]!).authorize([{ tag: TAG, count: 1 }]);
      expect(answer.status).toBe(200);
      expect(statusOf(answer)).toBe('OutOfCompliance');
    }

    // A message accepted by one process is a replay to the other.
    const device = fleet[0]!.on(devices[0]!);
    const envelope = device.authorizeEnvelope([{ tag: TAG, count: 1 }]);
    expect((await device.send(DEVICE_ROUTES.authorize, envelope)).status).toBe(200);
    const replay = await device.on(devices[1]!).send(DEVICE_ROUTES.authorize, envelope);
    expect(replay.status).toBe(409);
    expect(errorOf(replay).code).toBe('REPLAYED_NONCE');
    // And a second registration of one UDI, through the other process, is the domain's refusal.
    const twin = new SimDevice(devices[1]!, fleet[0]!.udi);
    const again = await twin.register(token.token);
    expect(again.status).toBe(409);
    expect(errorOf(again).code).toBe('ALREADY_REGISTERED');
  });

  it('judges compliance with a tag hierarchy defined through the other process, also after its listener was cut', async () => {
    const { dbUrl, admins, devices } = await pair();
    const [a, b] = admins as [AdminClient, AdminClient];
    const { vaId } = await a.setupVa(accountName());
    const generic = 'regid.2014-08.com.example.generic';
    const child = 'regid.2014-08.com.example.child';
    await a.addLicense(vaId, { tag: generic, count: 5 });
    const token = await a.createToken(vaId);
    const device = new SimDevice(devices[0]!, { pid: 'C9300-24UX', sn: 'H1' });
    expect((await device.register(token.token)).status).toBe(200);
    /** Authorizes `tag` through the first process until it is covered (by the generic pool), for up to 5 s. */
    const coveredThroughFirst = async (tag: string) => {
      const deadline = Date.now() + 5_000;
      for (;;) {
        const status = statusOf(await device.authorize([{ tag, count: 1 }]));
        if (status === 'InCompliance' || Date.now() > deadline) return status;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    // The first process caches the catalogue without the child tag: it has no license of its own.
    expect(statusOf(await device.authorize([{ tag: child, count: 1 }]))).toBe('OutOfCompliance');
    await b.ok('POST', '/api/v1/tags', { tag: child, parent: generic }, 200);
    expect(await coveredThroughFirst(child)).toBe('InCompliance');

    // Cut every listening connection: announcements made before the processes listen again
    // are missed, so they must not trust their catalogue meanwhile, and reload it after.
    const other = 'regid.2014-08.com.example.child2';
    expect(statusOf(await device.authorize([{ tag: other, count: 1 }]))).toBe('OutOfCompliance');
    const admin = new pg.Client({ connectionString: dbUrl });
    await admin.connect();
    try {
      const { rowCount } = await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where application_name = '${LISTENER_APPLICATION_NAME}'`,
      );
      expect(rowCount).toBe(2);
    } finally {
      await admin.end();
    }
    await b.ok('POST', '/api/v1/tags', { tag: other, parent: generic }, 200);
    expect(await coveredThroughFirst(other)).toBe('InCompliance');
  });

  it('creates one PKI, secrets key and admin key when three processes start together on an empty data directory', async () => {
    const { admins, devices } = await cluster('postgres', 3, { together: true });
    const { vaId } = await admins[0]!.setupVa(accountName());
    await admins[1]!.addLicense(vaId, { tag: TAG, count: 1 });
    const token = await admins[2]!.createToken(vaId);
    const device = new SimDevice(devices[0]!, { pid: 'C9300-24UX', sn: 'P1' });
    expect((await device.register(token.token)).status).toBe(200);
    // Every process answers with the signing certificate the device learnt at registration (checked by SimDevice).
    for (const ctx of devices) {
      const answer = await device.on(ctx).authorize([{ tag: TAG, count: 1 }]);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(statusOf(answer)).toBe('InCompliance');
    }
  });

  it('deposits a device-led conversion into the VA another process has moved the instance to', async () => {
    const { admins, devices } = await pair();
    const [a, b] = admins as [AdminClient, AdminClient];
    const { accountId, vaId } = await a.setupVa(accountName());
    const campus = await a.createVa(accountId, 'Campus');
    for (const id of [vaId, campus.id]) {
      await a.ok('PATCH', `/api/v1/virtual-accounts/${id}/conversion-settings`, { mode: 'on' }, 200);
    }
    const device = new SimDevice(devices[0]!, { pid: 'WS-C3850-24T', sn: 'C1' });
    expect((await device.register((await a.createToken(vaId)).token)).status).toBe(200);
    // The first process caches the instance's identity, with its VA.
    expect((await device.authorize([{ tag: TAG, count: 0 }])).status).toBe(200);
    await b.ok('POST', `/api/v1/instances/${device.instanceId}/transfer`, { toVaId: campus.id }, 200);

    const licenses = [{ legacyId: 'PAK-3850-001:ipservices', tag: 'regid.c3850.ipservices', count: 3 }];
    const envelope = device.sign(device.identified('convert', { licenses }));
    const answer = await device.sendVerified(DEVICE_ROUTES.convert, 'convert', envelope);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(await b.listLicenses(campus.id)).toEqual([
      expect.objectContaining({ tag: 'regid.c3850.ipservices', quantity: 3 }),
    ]);
    expect(await b.listLicenses(vaId)).toEqual([]);
  });

  it('authenticates devices against identities another process renewed, retired, replaced or removed', async () => {
    const { admins, devices } = await pair();
    const [first, second] = devices as [DeviceContext, DeviceContext];
    const { vaId } = await admins[0]!.setupVa(accountName());
    const token = await admins[0]!.createToken(vaId);
    const device = new SimDevice(first, { pid: 'C9300-24UX', sn: 'R1' });
    expect((await device.register(token.token)).status).toBe(200);
    const authorize = (d: SimDevice) => d.authorize([{ tag: TAG, count: 1 }]);
    // The first process caches the identity; the device renews its certificate through the second.
    expect((await authorize(device)).status).toBe(200);
    const renewed = device.on(second);
    expect((await renewed.renewId()).status).toBe(200);
    expect(renewed.idCertSerial).not.toBe(device.idCertSerial);
    // The second process retires the old certificate at the device's first use of the new one.
    expect((await authorize(renewed)).status).toBe(200);
    // The first process still caches the old certificate as current: the database refuses it.
    const old = await authorize(device);
    expect(old.status).toBe(401);
    expect(errorOf(old).code).toBe('MISSING_SERIALS');
    expect((await authorize(renewed.on(first))).status, 'the renewed certificate, at the first process').toBe(200);

    // Replaced by a forced registration through the second process: the old instance is gone at the first.
    const current = renewed.on(first);
    const again = new SimDevice(second, device.udi);
    expect((await again.register(token.token, { force: true })).status).toBe(200);
    const replaced = await authorize(current);
    expect(replaced.status).toBe(404);
    expect(errorOf(replaced).code).toBe('UNKNOWN_INSTANCE');

    // Removed through the second process after the first cached it.
    const cached = again.on(first);
    expect((await authorize(cached)).status).toBe(200);
    await admins[1]!.ok('DELETE', `/api/v1/instances/${again.instanceId}`, undefined, 200);
    const removed = await authorize(cached);
    expect(errorOf(removed).code).toBe('UNKNOWN_INSTANCE');
  });

  it('refuses all but one of several concurrent registrations of one UDI with ALREADY_REGISTERED', async () => {
    const { admins, devices } = await pair();
    const { vaId } = await admins[0]!.setupVa(accountName());
    const token = await admins[0]!.createToken(vaId, { maxUses: 100 });
    const twins = Array.from(
      { length: 8 },
      (_, i) => new SimDevice(devices[i % 2]!, { pid: 'C9300-24UX', sn: 'SAME' }),
    );
    const answers = await Promise.all(twins.map((d) => d.register(token.token)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    for (const answer of answers.filter((a) => a.status !== 200)) {
      expect(answer.status).toBe(409);
      expect(errorOf(answer).code).toBe('ALREADY_REGISTERED');
    }
    expect(await admins[1]!.listInstances(vaId)).toHaveLength(1);
    expect((await admins[1]!.listTokens(vaId))[0]?.uses).toBe(1);
  });

  it('loses no acknowledged registration when one process is killed with SIGKILL mid-burst', async () => {
    const { servers, admins, devices } = await cluster('postgres', 2);
    const [killed, survivor] = servers as [ServerProcess, ServerProcess];
    const { vaId } = await admins[1]!.setupVa(accountName());
    const token = await admins[1]!.createToken(vaId, { maxUses: 1000 });
    const acknowledged = new Set<string>();
    const unanswered = new Set<string>();
    let next = 0;
    const worker = async (ctx: DeviceContext, until: () => boolean) => {
      while (!until()) {
        const device = new SimDevice(ctx, { pid: 'C9300-24UX', sn: `K${next++}` });
        const answer = await device.register(token.token).catch(() => undefined);
        if (!answer) {
          unanswered.add(device.udi.sn);
          return;
        }
        expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        acknowledged.add(device.udi.sn);
      }
    };
    let stopped = false;
    const burst = [
      ...Array.from({ length: 4 }, () => worker(devices[0]!, () => false)),
      ...Array.from({ length: 4 }, () => worker(devices[1]!, () => stopped)),
    ];
    // Let the burst run, then kill the first process while its requests are in flight.
    while (acknowledged.size < 20) await new Promise((resolve) => setTimeout(resolve, 10));
    await killed.kill('SIGKILL');
    const afterKill = acknowledged.size;
    while (acknowledged.size < afterKill + 20) await new Promise((resolve) => setTimeout(resolve, 10));
    stopped = true;
    await Promise.all(burst);

    const instances = await new AdminClient(survivor.url, survivor.apiKey).listInstances(vaId);
    const present = new Set(instances.map((i) => i.sn));
    for (const sn of acknowledged) expect(present.has(sn), `acknowledged registration ${sn}`).toBe(true);
    // Nothing else but registrations whose answer was lost in the kill (committed or not, never half).
    for (const sn of present) expect(acknowledged.has(sn) || unanswered.has(sn), `unexpected ${sn}`).toBe(true);
    expect(present.size).toBe(instances.length);
    expect((await admins[1]!.listTokens(vaId))[0]?.uses).toBe(instances.length);
  });
});

describeEachEngine('concurrent authorizations and license transfers on one pool', (engine) => {
  const cluster = useCluster();

  it(`never miscount, ${engine === 'postgres' ? 'split over two processes' : 'on one process'}`, async () => {
    const { admins, devices } = await cluster(engine, engine === 'postgres' ? 2 : 1);
    const pick = <T>(list: T[], i: number) => list[i % list.length]!;
    const admin = admins[0]!;
    const { accountId, vaId } = await admin.setupVa(accountName());
    const other = await admin.createVa(accountId, 'Spare');
    await admin.addLicense(vaId, { tag: TAG, count: 60 });
    const token = await admin.createToken(vaId, { maxUses: 100 });
    const fleet: SimDevice[] = [];
    for (let i = 0; i < 20; i++) {
      const device = new SimDevice(pick(devices, i), { pid: 'C9300-24UX', sn: `T${i}` });
      expect((await device.register(token.token)).status).toBe(200);
      expect((await device.authorize([{ tag: TAG, count: 1 }])).status).toBe(200);
      fleet.push(device);
    }

    // 200 authorizations (10 per device, in turn through each process) beside 50 transfers of one license.
    const authorizations = fleet.map(async (device, d) => {
      for (let k = 0; k < 10; k++) {
        const answer = await device.on(pick(devices, d + k)).authorize([{ tag: TAG, count: 1 }]);
        expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      }
    });
    const transfers = Array.from({ length: 50 }, (_, i) =>
      pick(admins, i).request('POST', `/api/v1/virtual-accounts/${vaId}/licenses/transfer`, {
        tag: TAG,
        count: 1,
        toVaId: other.id,
      }),
    );
    const [answers] = await Promise.all([Promise.all(transfers), Promise.all(authorizations)]);

    // 60 licenses, 20 in use: exactly 40 can go, whatever the interleaving.
    const moved = answers.filter((a) => a.status === 200).length;
    for (const answer of answers.filter((a) => a.status !== 200)) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(409);
      expect(errorOf(answer).code).toBe('CONFLICT');
    }
    expect(moved).toBe(40);
    for (const reader of admins) {
      expect(await reader.listLicenses(vaId)).toEqual([
        expect.objectContaining({ tag: TAG, quantity: 20, inUse: 20, surplus: 0 }),
      ]);
      expect(await reader.listLicenses(other.id)).toEqual([
        expect.objectContaining({ tag: TAG, quantity: 40, inUse: 0, surplus: 40 }),
      ]);
    }
  });
});

/** One SQL query against the cluster's database, whichever engine it is. */
async function queryDatabase(engine: Engine, cluster: Cluster, text: string): Promise<unknown[]> {
  if (engine === 'postgres') {
    const client = new pg.Client({ connectionString: cluster.dbUrl });
    await client.connect();
    try {
      return (await client.query(text)).rows;
    } finally {
      await client.end();
    }
  }
  const db = new Sqlite(join(cluster.servers[0]!.dataDir, 'smartlic.db'), { readonly: true });
  try {
    return db.prepare(text).all();
  } finally {
    db.close();
  }
}

describeEachEngine('concurrent renewals that change usage on one pool', (engine) => {
  const cluster = useCluster();

  it(`keep the VA's totals and reported names exact, ${engine === 'postgres' ? 'split over two processes' : 'on one process'}`, async () => {
    const started = await cluster(engine, engine === 'postgres' ? 2 : 1);
    const { admins, devices } = started;
    const pick = <T>(list: T[], i: number) => list[i % list.length]!;
    const { vaId } = await admins[0]!.setupVa(accountName());
    await admins[0]!.addLicense(vaId, { tag: TAG, count: 25 });
    await admins[0]!.addLicense(vaId, { tag: TAG_B, count: 10 });
    const token = await admins[0]!.createToken(vaId, { maxUses: 100 });
    const fleet: SimDevice[] = [];
    for (let i = 0; i < 20; i++) {
      const device = new SimDevice(pick(devices, i), { pid: 'C9300-24UX', sn: `U${i}` });
      expect((await device.register(token.token)).status).toBe(200);
      fleet.push(device);
    }

    // Every renewal changes the device's usage (counts, a second tag coming and going, display
    // names), in turn through each process, all devices at once.
    const usageOf = (d: number, k: number) => [
      { tag: TAG, count: (d + k) % 4, displayName: k % 2 === 0 ? 'Switch A' : 'Switch A (renamed)' },
      { tag: TAG_B, count: (d * k) % 3 },
    ];
    const ROUNDS = 8;
    await Promise.all(
      fleet.map(async (device, d) => {
        for (let k = 0; k < ROUNDS; k++) {
          const answer = await device.on(pick(devices, d + k)).authorize(usageOf(d, k));
          expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        }
      }),
    );

    const last = fleet.map((_d, d) => usageOf(d, ROUNDS - 1));
    const inUse = (tag: string) => last.flat().reduce((sum, e) => (e.tag === tag ? sum + e.count : sum), 0);
    for (const admin of admins) {
      expect(await admin.listLicenses(vaId)).toEqual([
        expect.objectContaining({ tag: TAG, quantity: 25, inUse: inUse(TAG), surplus: 25 - inUse(TAG) }),
        expect.objectContaining({ tag: TAG_B, quantity: 10, inUse: inUse(TAG_B), surplus: 10 - inUse(TAG_B) }),
      ]);
    }
    // The maintained aggregates agree with the instances' usage rows.
    const totals = (from: string) =>
      queryDatabase(
        engine,
        started,
        from === 'stored'
          ? `select tag, cast(in_use as integer) as n from va_usage where va_id = '${vaId}' and in_use <> 0 order by tag`
          : `select u.tag, cast(sum(u.count) as integer) as n from instance_usage u join instances i on i.id = u.instance_id
               where i.va_id = '${vaId}' group by u.tag order by u.tag`,
      );
    expect(await totals('stored')).toEqual(await totals('computed'));
    expect(await totals('stored')).toEqual([
      { tag: TAG, n: inUse(TAG) },
      { tag: TAG_B, n: inUse(TAG_B) },
    ]);
    const names = (from: string) =>
      queryDatabase(
        engine,
        started,
        from === 'stored'
          ? `select tag, display_name, cast(instances as integer) as n from va_reported_names
               where va_id = '${vaId}' and instances > 0 order by tag, display_name`
          : `select u.tag, u.display_name, cast(count(*) as integer) as n from instance_usage u
               join instances i on i.id = u.instance_id where i.va_id = '${vaId}' and u.display_name is not null
               group by u.tag, u.display_name order by u.tag, u.display_name`,
      );
    expect(await names('stored')).toEqual(await names('computed'));
    expect(await names('stored')).toEqual([
      { tag: TAG, display_name: 'Switch A (renamed)', n: last.filter((u) => u[0]!.count > 0).length },
    ]);

    // A renewal after the burst is judged on the exact totals.
    const over = inUse(TAG) > 25 || inUse(TAG_B) > 10;
    const again = await fleet[0]!.on(pick(devices, 1)).authorize(last[0]!);
    expect(statusOf(again)).toBe(over ? 'OutOfCompliance' : 'InCompliance');
  });
});
