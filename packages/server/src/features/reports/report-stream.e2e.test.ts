import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Insertable } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../storage/schema.js';
import { describeEachEngine } from '../../test-support/postgres.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

const TAG = 'regid.2026-01.com.example.fleet';
/** More than two of the 5,000-row pages a report and a full list are read in. */
const N = 12_001;

/**
 * Seeds `N` instances straight into the server's database (as bench/scale.ts does), half of
 * them registered at the same millisecond so that keyset paging must order by PID and SN too.
 */
async function seed(t: TestServer, vaId: string): Promise<string[]> {
  const ids: string[] = [];
  const instances: Insertable<Database['instances']>[] = [];
  const usage: Insertable<Database['instance_usage']>[] = [];
  for (let i = 0; i < N; i++) {
    const id = randomUUID();
    ids.push(id);
    const registeredAt = i % 2 === 0 ? Date.UTC(2027, 0, 1) : Date.UTC(2027, 0, 1) + i;
    // A hostname a spreadsheet would run, and one that needs quoting.
    const hostname = i === 7 ? '=cmd()' : i === 8 ? 'a,"b"' : `h${i}`;
    instances.push({
      id,
      va_id: vaId,
      token_id: null,
      pid: `P${i % 3}`,
      sn: `S${i}`,
      hostname,
      software_tag: 'sw',
      public_key_spki: 'k',
      id_cert_pem: 'c',
      id_cert_serial: String(i),
      id_cert_expires_at: Date.UTC(2030, 0, 1),
      registered_at: registeredAt,
      last_contact_at: registeredAt,
      export_controlled: 0,
    });
    if (i % 4 === 0) usage.push({ instance_id: id, tag: TAG, count: 1 + (i % 3), display_name: null });
  }
  await t.inspect((db) =>
    db.transaction().execute(async (trx) => {
      // In batches: PostgreSQL takes at most 65,535 parameters a statement.
      for (let k = 0; k < instances.length; k += 1000) {
        await trx
          .insertInto('instances')
          .values(instances.slice(k, k + 1000))
          .execute();
      }
      for (let k = 0; k < usage.length; k += 1000) {
        await trx
          .insertInto('instance_usage')
          .values(usage.slice(k, k + 1000))
          .execute();
      }
    }),
  );
  return ids;
}

describeEachEngine(
  'instances at fleet scale: keyset pages and streamed reports (real HTTP, real database)',
  (engine) => {
    let t: TestServer;
    let vaId: string;
    let ids: string[];
    const base = () => `/api/v1/virtual-accounts/${vaId}`;

    beforeAll(async () => {
      t = await startTestServer({ engine, rateLimits: 'off' });
      ({ vaId } = await t.admin.setupVa());
      ids = await seed(t, vaId);
    });
    afterAll(async () => {
      await t.dispose();
    });

    async function text(path: string): Promise<{ status: number; type: string; body: string }> {
      const res = await fetch(`${t.url}${path}`, {
        headers: { authorization: `Bearer ${readFileSync(t.server.adminKeyPath, 'utf8').trim()}` },
      });
      return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
    }

    it('pages through every instance exactly once, in (registered, PID, SN) order, across ties', async () => {
      const seen: Array<{ id: string; registeredAt: string; pid: string; sn: string }> = [];
      let cursor: string | null = null;
      do {
        const page: { items: typeof seen; nextCursor: string | null } = await t.admin.ok(
          'GET',
          `${base()}/instances?limit=997${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(page.items.length).toBeLessThanOrEqual(997);
        seen.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toHaveLength(N);
      expect(new Set(seen.map((i) => i.id))).toEqual(new Set(ids));
      const keys = seen.map((i) => [Date.parse(i.registeredAt), i.pid, i.sn] as const);
      for (let k = 1; k < keys.length; k++) {
        const [a, b] = [keys[k - 1]!, keys[k]!];
        expect(a[0] < b[0] || (a[0] === b[0] && (a[1] < b[1] || (a[1] === b[1] && a[2] < b[2])))).toBe(true);
      }
    });

    it('streams the instances report as CSV, JSON and JSON lines with the same rows as the full list', async () => {
      const list = await t.admin.listInstances(vaId);
      expect(list).toHaveLength(N);

      const csv = await text(`${base()}/reports/instances?format=csv`);
      expect(csv.status).toBe(200);
      expect(csv.type).toMatch(/^text\/csv/);
      const lines = csv.body.split('\r\n');
      expect(lines[0]).toBe('id,pid,sn,hostname,softwareTag,registeredAt,lastContact,usage,status,alerts');
      expect(lines.at(-1)).toBe('');
      expect(lines).toHaveLength(N + 2);
      expect(lines.slice(1, -1).map((l) => l.split(',')[0])).toEqual(list.map((i) => i.id));
      expect(csv.body).toContain(",'=cmd(),");
      expect(csv.body).toContain(',"a,""b""",');

      const json = await text(`${base()}/reports/instances?format=json`);
      expect(json.type).toMatch(/^application\/json/);
      const rows = JSON.parse(json.body) as Array<{ id: string; usage: string; status: string }>;
      expect(rows.map((r) => r.id)).toEqual(list.map((i) => i.id));
      const used = list.find((i) => i.usage.length > 0)!;
      expect(rows.find((r) => r.id === used.id)).toMatchObject({
        usage: `${TAG}:${used.usage[0]!.count}`,
        status: used.status,
      });

      const jsonl = await text(`${base()}/reports/instances?format=jsonl`);
      expect(jsonl.type).toMatch(/^application\/x-ndjson/);
      const jsonLines = jsonl.body.split('\n');
      expect(jsonLines.at(-1)).toBe('');
      expect(jsonLines.slice(0, -1).map((l) => JSON.parse(l))).toEqual(rows);
    });

    it('answers an unknown VA or format with one error before any row', async () => {
      const missing = await text('/api/v1/virtual-accounts/nope/reports/instances?format=csv');
      expect(missing.status).toBe(404);
      expect(JSON.parse(missing.body)).toMatchObject({ code: 'NOT_FOUND' });
      const bad = await text(`${base()}/reports/instances?format=xml`);
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.body)).toMatchObject({ code: 'BAD_REQUEST' });
    });
  },
);
