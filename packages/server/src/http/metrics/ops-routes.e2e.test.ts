import type { Kysely } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { AdminClient } from '../../test-support/admin-client.js';
import { type Sample, scrapeMetrics, sumOf } from '../../test-support/metrics.js';
import { describeEachEngine } from '../../test-support/postgres.js';
import { SimDevice } from '../../test-support/sim-device.js';
import { startTestApp, type TestApp } from '../../test-support/test-app.js';

describeEachEngine('operations endpoints', (engine) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp({ engine });
  });
  afterEach(async () => t.dispose());

  const scrape = (): Promise<Sample[]> => scrapeMetrics(t.url);

  it('serves valid Prometheus text whose counters move by exactly the traffic sent', async () => {
    const admin = new AdminClient(t.url, t.ownerKey);
    const { vaId } = await admin.setupVa();
    await admin.addLicense(vaId, { tag: 'regid.2025-01.com.example.router', count: 1 });
    const token = await admin.createToken(vaId);
    const rootCaPem = await (await fetch(`${t.url}/api/v1/pki/root-ca`)).text();

    const before = await scrape();
    const device = new SimDevice({ url: t.url, clock: t.clock, rootCaPem }, { pid: 'R1', sn: 'S1' });
    expect((await device.register(token.token)).status).toBe(200);
    expect((await device.authorize([{ tag: 'regid.2025-01.com.example.router', count: 1 }])).status).toBe(200);
    expect((await device.authorize([{ tag: 'regid.2025-01.com.example.router', count: 3 }])).status).toBe(200);
    // A second registration with the same identity is refused: counted under its error code.
    const again = new SimDevice({ url: t.url, clock: t.clock, rootCaPem }, { pid: 'R1', sn: 'S1' });
    const refused = await again.register(token.token);
    expect(refused.status).toBeGreaterThanOrEqual(400);
    const refusedCode = (refused.body as { code: string }).code;
    await fetch(`${t.url}/api/no/such/secret-path-123`);
    const after = await scrape();

    const delta = (name: string, labels: Record<string, string>) =>
      sumOf(after, name, labels) - sumOf(before, name, labels);
    expect(delta('smartlic_device_messages_total', { type: 'register', outcome: 'ok' })).toBe(1);
    expect(delta('smartlic_device_messages_total', { type: 'register', outcome: refusedCode })).toBe(1);
    expect(delta('smartlic_device_messages_total', { type: 'authorize', outcome: 'ok' })).toBe(2);
    expect(delta('smartlic_authorizations_total', { status: 'InCompliance' })).toBe(1);
    expect(delta('smartlic_authorizations_total', { status: 'OutOfCompliance' })).toBe(1);
    const authorizeRoute = { method: 'POST', route: '/api/v1/device/authorize' };
    expect(delta('smartlic_http_requests_total', { ...authorizeRoute, status_class: '2xx' })).toBe(2);
    expect(delta('smartlic_http_request_duration_seconds_count', authorizeRoute)).toBe(2);
    expect(delta('smartlic_http_request_duration_seconds_bucket', { ...authorizeRoute, le: '+Inf' })).toBe(2);
    // The first scrape is counted by its pattern; a URL that matches nothing never becomes a label.
    expect(sumOf(after, 'smartlic_http_requests_total', { route: '/metrics', status_class: '2xx' })).toBe(1);
    expect(delta('smartlic_http_requests_total', { route: 'unmatched', status_class: '4xx' })).toBe(1);
    expect(after.some((s) => Object.values(s.labels).some((v) => v.includes('secret-path')))).toBe(false);
    // Admin routes are labelled by pattern, not by the ids in their URLs.
    expect(sumOf(after, 'smartlic_http_requests_total', { route: '/api/v1/virtual-accounts/:vaId/tokens' })).toBe(1);
    expect(after.some((s) => Object.values(s.labels).some((v) => v.includes(vaId)))).toBe(false);

    // The event loop's activity only grows; on SQLite the group commit counts what it made durable.
    expect(delta('nodejs_eventloop_active_seconds_total', {})).toBeGreaterThan(0);
    const commitCounters = [
      'smartlic_commit_batches_total',
      'smartlic_commit_units_total',
      'smartlic_wal_syncs_total',
      'smartlic_wal_sync_seconds_total',
      'smartlic_wal_restarts_total',
      'smartlic_wal_restart_wait_seconds_total',
    ];
    if (engine === 'sqlite') {
      // One registration and two authorizations committed; the refused registration committed nothing.
      expect(delta('smartlic_commit_units_total', {})).toBe(3);
      expect(delta('smartlic_commit_batches_total', {})).toBeGreaterThanOrEqual(1);
      expect(delta('smartlic_commit_batches_total', {})).toBeLessThanOrEqual(3);
      expect(delta('smartlic_wal_syncs_total', {})).toBeGreaterThanOrEqual(1);
      expect(delta('smartlic_wal_sync_seconds_total', {})).toBeGreaterThan(0);
      // Three commits do not call for the log to start over.
      expect(delta('smartlic_wal_restarts_total', {})).toBe(0);
    } else {
      // PostgreSQL commits each unit itself: no group commit to count.
      for (const name of commitCounters)
        expect(
          after.some((s) => s.name === name),
          name,
        ).toBe(false);
    }

    // Jobs run through the API are counted.
    await admin.ok('POST', '/api/v1/jobs/run', undefined, 200);
    const jobs = await scrape();
    expect(sumOf(jobs, 'smartlic_job_runs_total', { outcome: 'ok' })).toBe(1);

    for (const name of [
      'process_resident_memory_bytes',
      'nodejs_heap_used_bytes',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_active_handles',
    ]) {
      expect(after.find((s) => s.name === name)?.value, name).toBeGreaterThanOrEqual(0);
    }
    const start = after.find((s) => s.name === 'process_start_time_seconds')!.value;
    expect(Math.abs(start - Date.now() / 1000)).toBeLessThan(3600);
  });

  it('answers /healthz always and /readyz while the database answers', async () => {
    expect(await (await fetch(`${t.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
    // A migration recorded as not applied (an older server's database): not ready, saying why.
    const db = t.database.db as unknown as Kysely<{ kysely_migration: { name: string } }>;
    const last = await db
      .selectFrom('kysely_migration')
      .select('name')
      .orderBy('name', 'desc')
      .executeTakeFirstOrThrow();
    await db.deleteFrom('kysely_migration').where('name', '=', last.name).execute();
    const pending = await fetch(`${t.url}/readyz`);
    expect(pending.status).toBe(503);
    expect(((await pending.json()) as { message: string }).message).toBe(
      'Not ready: 1 database migration(s) are not applied yet.',
    );
    await db
      .insertInto('kysely_migration')
      .values({ name: last.name, timestamp: new Date().toISOString() } as never)
      .execute();
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);

    await t.database.close();
    const notReady = await fetch(`${t.url}/readyz`);
    expect(notReady.status).toBe(503);
    const body = (await notReady.json()) as { code: string; message: string; requestId: string };
    expect(body).toEqual({
      code: 'SERVER_BUSY',
      message: 'Not ready: The database does not answer.',
      requestId: expect.any(String),
    });
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${t.url}/api/v1/health`)).status).toBe(200);
  });
});
