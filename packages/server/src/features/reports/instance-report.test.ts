import { DEFAULT_TIMERS, ManualClock } from '@smartlic/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLocalChangeFeed } from '../../cluster/change-feed.js';
import { type OpenDatabase, type RawDatabase, rawDatabaseOf } from '../../storage/database.js';
import type { InstanceRow } from '../../storage/schema.js';
import { createTransactor } from '../../storage/transactor.js';
import { describeEachEngine } from '../../test-support/postgres.js';
import { openTestDatabase } from '../../test-support/test-database.js';
import { minuteCachedIso, toIso } from '../../util/time.js';
import { InstanceKeyCache } from '../instances/instance-key-cache.js';
import { silenceAlertFrom } from '../instances/instance-lifecycle.js';
import { createInstanceService, type InstanceService } from '../instances/instance-service.js';
import type { LicenseService } from '../licenses/license-service.js';
import { TagTreeCache } from '../tags/tag-tree.js';
import { instanceReportChunks, type ReportFormat } from './instance-report.js';
import type { InstanceRowSource } from './instance-report-rows.js';
import { postgresInstanceRows } from './instance-rows-postgres.js';
import { sqliteInstanceRows } from './instance-rows-sqlite.js';
import { createReportService, type ReportService, reportChunks } from './report-service.js';

const FORMATS: ReportFormat[] = ['csv', 'json', 'jsonl'];
const N = 157;
const T0 = Date.UTC(2027, 2, 3, 4, 5, 6, 7);
/** Seeded instances that are policy devices: silent 90 days (0, 10), silent 30 days (7), heard from lately (1). */
const POLICY_DEVICES = [0, 1, 7, 10];

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let all = '';
  for await (const chunk of chunks) all += chunk;
  return all;
}

/**
 * Instances with what a report must render exactly: hostnames a spreadsheet would run or that
 * need quoting (or none), several tags per instance (one short of licenses, one starting with
 * `=`, a zero count), ties on the registration time, silent instances, export control, and
 * times from one minute to the next.
 */
function instanceRows(vaId: string, now: number): { instances: InstanceRow[]; usage: Array<[string, string, number]> } {
  const hostnames = ['=cmd()', 'a,"b"', 'line\nbreak', null, '+1', '-2', '@x', '\tt', 'plain', 'ünïcødé ✓'];
  const instances: InstanceRow[] = [];
  const usage: Array<[string, string, number]> = [];
  for (let i = 0; i < N; i++) {
    const id = `inst-${String((i * 37) % N).padStart(4, '0')}`;
    instances.push({
      id,
      va_id: vaId,
      token_id: null,
      pid: `P${i % 3}`,
      sn: `S${i}`,
      hostname: hostnames[i % hostnames.length]!,
      software_tag: i % 11 === 0 ? '=sw' : 'regid.2026-01.com.example.sw',
      public_key_spki: 'k',
      id_cert_pem: 'c',
      id_cert_serial: String(1000 + i),
      id_cert_expires_at: T0 + 365 * 86_400_000 + i * 7_919,
      // Ties every other instance; steps of 13.7 s cross minutes.
      registered_at: i % 2 === 0 ? T0 : T0 + i * 13_700,
      last_contact_at:
        i % 5 === 0
          ? now - DEFAULT_TIMERS.silentReleaseMs - i
          : i % 7 === 0
            ? now - DEFAULT_TIMERS.silentAlertMs
            : now - i,
      export_controlled: i % 6 === 0 ? 1 : 0,
    });
    if (i % 4 !== 3) usage.push([id, 'regid.2026-01.com.example.short', 1 + (i % 3)]);
    if (i % 3 === 0) usage.push([id, 'regid.2026-01.com.example.plenty', 2]);
    if (i % 9 === 0) usage.push([id, '=regid.formula', 1]);
    if (i % 10 === 1) usage.push([id, 'regid.2026-01.com.example.zero', 0]);
  }
  return { instances, usage };
}

describeEachEngine('instances report, lean path', (engine) => {
  let handle: Awaited<ReturnType<typeof openTestDatabase>>;
  let database: OpenDatabase;
  let raw: RawDatabase;
  let instances: InstanceService;
  let reports: ReportService;
  const clock = new ManualClock(T0 + 200 * 86_400_000);

  beforeAll(async () => {
    handle = await openTestDatabase(engine);
    database = handle.database;
    raw = rawDatabaseOf(database);
    const { db } = database;
    await db.insertInto('smart_accounts').values({ id: 'sa', name: 'A', domain: 'a.example', created_at: 0 }).execute();
    for (const va of ['va', 'other', 'empty']) {
      await db.insertInto('virtual_accounts').values({ id: va, account_id: 'sa', name: va, created_at: 0 }).execute();
    }
    const { instances: rows, usage } = instanceRows('va', clock.now());
    await db.insertInto('instances').values(rows).execute();
    await db
      .insertInto('instances')
      .values({ ...rows[0]!, id: 'elsewhere', va_id: 'other', sn: 'OTHER' })
      .execute();
    await db
      .insertInto('instance_usage')
      .values(usage.map(([instance_id, tag, count]) => ({ instance_id, tag, count, display_name: null })))
      .execute();
    // Policy devices show no silence alert (silent ones among them, and one heard from lately).
    await db
      .insertInto('policy_devices')
      .values(
        POLICY_DEVICES.map((i) => ({
          instance_id: rows[i]!.id,
          trusted_at: 0,
          last_report_id: null,
          last_report_created_at: null,
          last_ack_at: null,
        })),
      )
      .execute();
    const totals = new Map<string, number>();
    for (const [, tag, count] of usage) totals.set(tag, (totals.get(tag) ?? 0) + count);
    await db
      .insertInto('va_usage')
      .values([...totals].map(([tag, in_use]) => ({ va_id: 'va', tag, in_use })))
      .execute();
    await db
      .insertInto('license_pools')
      .values(
        [
          ['short', 'regid.2026-01.com.example.short', 10],
          ['plenty', 'regid.2026-01.com.example.plenty', 1000],
        ].map(([id, tag, quantity]) => ({
          id: id as string,
          va_id: 'va',
          tag: tag as string,
          display_name: null,
          quantity: quantity as number,
          type: 'perpetual' as const,
          starts_at: 0,
          ends_at: null,
          created_at: 0,
        })),
      )
      .execute();
    instances = createInstanceService({
      db,
      clock,
      transactor: createTransactor(database),
      keyCache: new InstanceKeyCache(),
      tags: new TagTreeCache(db, createLocalChangeFeed()),
    });
    reports = createReportService({ db, raw, licenses: {} as LicenseService, instances });
  });
  afterAll(async () => {
    await handle.dispose();
  });

  /** The paged path: `InstanceView`s through the generic report writer. */
  async function viaViews(vaId: string, format: ReportFormat): Promise<string> {
    return text(reportChunks(await reports.stream(vaId, 'instances'), format));
  }

  function rowsOf(vaId: string, batch: number): InstanceRowSource {
    const alertFrom = silenceAlertFrom(clock.now());
    return raw.engine === 'sqlite'
      ? sqliteInstanceRows(raw.sqlite, vaId, alertFrom, batch)
      : postgresInstanceRows(raw.pool, vaId, alertFrom, batch);
  }

  it('writes byte for byte what the paged path writes, in every format', async () => {
    for (const format of FORMATS) {
      const expected = await viaViews('va', format);
      expect(await text(await reports.chunks('va', 'instances', format))).toBe(expected);
    }
    const csv = await viaViews('va', 'csv');
    expect(csv.split('\r\n')[0]).toBe('id,pid,sn,hostname,softwareTag,registeredAt,lastContact,usage,status,alerts');
    // What the seeded rows must exercise, so that the equality above means something.
    expect(csv).toContain(",'=cmd(),");
    expect(csv).toContain(',"a,""b""",');
    expect(csv).toContain('"line\nbreak"');
    expect(csv).toContain("'=regid.formula:1");
    expect(csv).toContain(',OutOfCompliance,');
    expect(csv).toContain(',InCompliance,');
    expect(csv).toContain(',NoUsage,');
    expect(csv).toContain('No contact for 90 days: usage released');
    expect(csv).toContain('No contact for 30 days');
    // A silent policy device has no silence alert: its line ends with an empty alerts cell.
    expect(csv).toMatch(/\n[^\n]*,S10,[^\n]*,\r\n/);
    expect(csv).toMatch(/\n[^\n]*,S5,[^\n]*,No contact for 90 days: usage released\r\n/);
    const lines = (await viaViews('va', 'jsonl')).trim().split('\n');
    expect(lines).toHaveLength(N);
    expect(lines.some((l) => l.includes('"hostname":null'))).toBe(true);
    expect(lines.some((l) => l.includes('"exportControlled":true'))).toBe(true);
  });

  it('gives the same bytes whatever the batch size (an instance split across batches, one instance a batch)', async () => {
    const ctx = await instances.statusContext('va');
    for (const format of FORMATS) {
      const expected = await viaViews('va', format);
      for (const batch of [1, 2, 7, N, N + 1]) {
        expect(await text(instanceReportChunks(rowsOf('va', batch), ctx, format))).toBe(expected);
      }
    }
  });

  it('writes an empty VA as the paged path does, and refuses an unknown one before any byte', async () => {
    for (const format of FORMATS) {
      expect(await text(await reports.chunks('empty', 'instances', format))).toBe(await viaViews('empty', format));
    }
    await expect(reports.chunks('nope', 'instances', 'csv')).rejects.toThrow(/Virtual account/);
  });

  it('leaves the connection usable when the reader stops early', async () => {
    const ctx = await instances.statusContext('va');
    for (let k = 0; k < 3; k++) {
      for await (const chunk of instanceReportChunks(rowsOf('va', 5), ctx, 'csv')) {
        if (chunk.length > 0) break;
      }
    }
    const n = await database.db
      .selectFrom('instances')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(N + 1);
    expect(await text(await reports.chunks('va', 'instances', 'jsonl'))).toBe(await viaViews('va', 'jsonl'));
  });
});

it('formats times as toIso does, reusing a minute', () => {
  const iso = minuteCachedIso();
  const times = [0, 59_999, 60_000, T0, T0 + 1, T0 + 53_000, T0 + 60_000, -1, -60_001, 8.64e15, 8.64e15 + 1, 1.5, T0];
  for (let k = 0; k < 2000; k++) times.push(T0 + Math.floor(Math.sin(k) * 1e7) + k * 997);
  for (const ms of times) expect(iso(ms)).toBe(toIso(ms));
});
