import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './authority-load.js';

// The database work of one authorization renewal, in this process: its four statements (nonce,
// instance touch, usage read, balances) in a unit of work, 50 units queued at a time as 50
// devices would. CPU time is the process's (all threads), so it is less disturbed by other load
// on the machine than request rates are. The server's modules are loaded from a build (the
// bench package does not depend on the server's internals at compile time): this one, and a
// baseline's (BENCH_BASELINE_CLI's tree) when given.

const UNITS_PER_BATCH = 50;
const INSTANCES = 200;

/** What one configuration measured: µs per authorization's database work. */
export interface DbWork {
  cpuUs: number;
  wallUs: number;
}

type Db = {
  insertInto(table: string): { values(v: object): { execute(): Promise<unknown> } };
};
interface Modules {
  openSqliteDatabase(file: string): { db: Db; deviceStatements?: Statements; close(): Promise<void> };
  migrateToLatest(db: Db): Promise<unknown>;
  createTransactor(arg: unknown): { run<T>(work: (trx: unknown) => Promise<T>): Promise<T>; drain(): Promise<void> };
  recordNonce(trx: unknown, nonce: string, now: number): Promise<boolean>;
  touchInstanceInVa(trx: unknown, id: string, serial: string, now: number): Promise<unknown>;
  readInstanceUsage(trx: unknown, id: string): Promise<unknown>;
  readBalances(trx: unknown, va: string, now: number, tags: string[]): Promise<unknown>;
  replaceInstanceUsage(trx: unknown, owner: object, current: unknown[], next: object[]): Promise<boolean>;
}
type Statements = Pick<Modules, 'recordNonce' | 'touchInstanceInVa' | 'readInstanceUsage' | 'readBalances'>;

async function modules(root: string): Promise<Modules> {
  const dist = join(root, 'packages/server/dist');
  const load = (path: string) => import(join(dist, path));
  return {
    ...(await load('storage/database.js')),
    ...(await load('storage/migrate.js')),
    ...(await load('storage/transactor.js')),
    ...(await load('features/device/nonce-store.js')),
    ...(await load('features/instances/instance-store.js')),
    ...(await load('features/compliance/usage-store.js')),
    ...(await load('features/compliance/balances.js')),
  } as Modules;
}

/**
 * µs of CPU and of wall time per authorization's database work over `seconds`: `build` is this
 * build or a baseline's tree; `path` the hand-written statements (this build only) or Kysely.
 */
export async function measureDbWork(build: string, path: 'prepared' | 'kysely', seconds: number): Promise<DbWork> {
  const m = await modules(build);
  const dir = await mkdtemp(join(tmpdir(), 'smartlic-bench-db-'));
  const database = m.openSqliteDatabase(join(dir, 'smartlic.db'));
  try {
    await m.migrateToLatest(database.db);
    // Before ADR 0002's change the transactor took the Kysely instance; since, the open database.
    const transactor = m.createTransactor(database.deviceStatements ? database : database.db);
    const statements: Statements = path === 'prepared' && database.deviceStatements ? database.deviceStatements : m;
    await seed(m, database.db, transactor);
    const tags = ['regid.bench.A'];
    let n = 0;
    const unit = (i: number) =>
      transactor.run(async (trx) => {
        const now = Date.now();
        const id = `i${i % INSTANCES}`;
        await statements.recordNonce(trx, `n${n++}-${Math.random()}`, now);
        await statements.touchInstanceInVa(trx, id, 's', now);
        await statements.readInstanceUsage(trx, id);
        await statements.readBalances(trx, 'va', now, tags);
      });
    // Warm-up, then the measured window.
    for (let i = 0; i < 20; i++) await Promise.all(Array.from({ length: UNITS_PER_BATCH }, (_, k) => unit(k)));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let units = 0;
    while (performance.now() - t0 < seconds * 1000) {
      await Promise.all(Array.from({ length: UNITS_PER_BATCH }, (_, k) => unit(units + k)));
      units += UNITS_PER_BATCH;
    }
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    await transactor.drain();
    return { cpuUs: (cpu.user + cpu.system) / units, wallUs: (1000 * wall) / units };
  } finally {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function seed(m: Modules, db: Db, transactor: ReturnType<Modules['createTransactor']>): Promise<void> {
  await db.insertInto('smart_accounts').values({ id: 'sa', name: 'A', domain: 'a.example', created_at: 0 }).execute();
  await db.insertInto('virtual_accounts').values({ id: 'va', account_id: 'sa', name: 'V', created_at: 0 }).execute();
  await db
    .insertInto('license_pools')
    .values({
      id: 'p',
      va_id: 'va',
      tag: 'regid.bench.A',
      display_name: 'Bench',
      quantity: 1000,
      type: 'perpetual',
      starts_at: 0,
      ends_at: null,
      created_at: 0,
    })
    .execute();
  for (let i = 0; i < INSTANCES; i++) {
    const id = `i${i}`;
    await db
      .insertInto('instances')
      .values({
        id,
        va_id: 'va',
        token_id: null,
        pid: 'P',
        sn: id,
        hostname: null,
        software_tag: 't',
        public_key_spki: 'k',
        id_cert_pem: 'c',
        id_cert_serial: 's',
        id_cert_expires_at: Number.MAX_SAFE_INTEGER,
        registered_at: 0,
        last_contact_at: 0,
        export_controlled: 0,
      })
      .execute();
    await transactor.run((trx) =>
      m.replaceInstanceUsage(
        trx,
        { instanceId: id, vaId: 'va' },
        [],
        [{ tag: 'regid.bench.A', count: 1, displayName: null }],
      ),
    );
  }
}

/** This build's tree. */
export const THIS_BUILD = ROOT;
