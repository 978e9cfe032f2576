import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postgresUrl } from '../../test-support/postgres.js';
import { makeTempDir } from '../../test-support/temp-dir.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';
import { verifyBackupFile } from './backup-archive.js';
import { BACKUP_MEDIA_TYPE } from './backup-routes.js';
import { POSTGRES_BACKUP_MESSAGE } from './backup-service.js';

describe('POST /api/v1/backup [sqlite]', () => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer({ engine: 'sqlite' });
  });
  afterEach(async () => {
    await t.dispose();
  });

  const take = () =>
    fetch(`${t.url}/api/v1/backup`, { method: 'POST', headers: { authorization: `Bearer ${t.admin.apiKey}` } });

  it('streams a complete archive, leaves no copy behind, and removes copies abandoned by a dead process', async () => {
    const { vaId } = await t.admin.setupVa();
    await t.admin.addLicense(vaId, { tag: 'regid.2014-08.com.example.A', count: 3 });
    // A copy left by a server killed while taking a backup (no such process), and one of a live process.
    const abandoned = join(t.dataDir, '.backup-2147483646-dead-x');
    mkdirSync(abandoned);
    writeFileSync(join(abandoned, 'smartlic.db'), 'old');
    const live = join(t.dataDir, `.backup-${process.ppid}-live-x`);
    mkdirSync(live);
    const response = await take();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(BACKUP_MEDIA_TYPE);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(Number(response.headers.get('content-length'))).toBe(bytes.length);
    const out = makeTempDir();
    try {
      writeFileSync(join(out.path, 'b'), bytes);
      const { header } = verifyBackupFile(join(out.path, 'b'));
      expect(header.createdAt).toBe(t.clock.now());
      expect(header.files.map((f) => f.path)).toContain('smartlic.db');
    } finally {
      out.remove();
    }
    expect(existsSync(abandoned)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(readdirSync(t.dataDir).filter((n) => n.startsWith('.backup-') && !n.includes('live'))).toEqual([]);
  });

  it('is refused without a key, changing nothing', async () => {
    const answer = await fetch(`${t.url}/api/v1/backup`, { method: 'POST' });
    expect(answer.status).toBe(401);
    expect(readdirSync(t.dataDir).filter((n) => n.startsWith('.backup-'))).toEqual([]);
  });
});

describe.skipIf(!postgresUrl())('POST /api/v1/backup on PostgreSQL', () => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer({ engine: 'postgres' });
  });
  afterEach(async () => {
    await t.dispose();
  });

  it('answers the pg_dump advice in one sentence and leaves no copy behind', async () => {
    await t.admin.setupVa();
    const answer = await t.admin.request<{ code: string; message: string }>('POST', '/api/v1/backup');
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 'BAD_REQUEST', message: POSTGRES_BACKUP_MESSAGE });
    expect(readdirSync(t.dataDir).filter((n) => n.startsWith('.backup-'))).toEqual([]);
  });
});
