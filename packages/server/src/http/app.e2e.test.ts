import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ManualClock } from '@smartlic/protocol';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureBootstrapAdminKey } from '../features/api-keys/bootstrap-admin-key.js';
import { backupSourceOf } from '../features/backup/backup-service.js';
import { loadOrCreatePki } from '../features/pki/authority-pki.js';
import { PkiHolder } from '../features/pki/pki-holder.js';
import { type OpenDatabase, openSqliteDatabase, rawDatabaseOf } from '../storage/database.js';
import { migrateToLatest } from '../storage/migrate.js';
import { createTransactor, type Transactor } from '../storage/transactor.js';
import { sendJson } from '../test-support/http.js';
import { makeTempDir } from '../test-support/temp-dir.js';
import { buildApp } from './app.js';
import { DEFAULT_RATE_LIMITS } from './rate-limits.js';

/** buildApp with its own parts: a log captured in memory and a transactor a test can break. */
describe('buildApp', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let database: OpenDatabase;
  let app: FastifyInstance;
  let url: string;
  let apiKey: string;
  let lines: Array<Record<string, unknown>>;
  let broken: boolean;

  beforeEach(async () => {
    dir = makeTempDir();
    lines = [];
    broken = false;
    const clock = new ManualClock();
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const logger = pino({ level: 'info', redact: ['req.headers.authorization'] }, sink);
    database = openSqliteDatabase(join(dir.path, 'smartlic.db'));
    await migrateToLatest(database.db);
    const real = createTransactor(database);
    const transactor: Transactor = {
      run: (work) => (broken ? Promise.reject(new Error('disk on fire at /var/secret/path')) : real.run(work)),
      drain: () => real.drain(),
    };
    const pki = await loadOrCreatePki({ dataDir: dir.path, clock });
    const key = await ensureBootstrapAdminKey({ dataDir: dir.path, transactor: real, clock });
    apiKey = readFileSync(key.path, 'utf8');
    app = await buildApp({
      db: database.db,
      raw: rawDatabaseOf(database),
      deviceStatements: database.deviceStatements,
      backup: backupSourceOf(dir.path, database),
      pki: new PkiHolder(pki),
      clock,
      logger,
      transactor,
      rateLimits: DEFAULT_RATE_LIMITS,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });
  afterEach(async () => {
    await app.close();
    await database.close();
    dir.remove();
  });

  it('answers an unexpected failure with 500 INTERNAL, logs it with the request id, and leaks nothing', async () => {
    broken = true;
    const answer = await sendJson<{ code: string; message: string; requestId: string }>(`${url}/api/v1/accounts`, {
      method: 'POST',
      body: { name: 'Acme' },
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(answer.status).toBe(500);
    expect(answer.body).toEqual({
      code: 'INTERNAL',
      message: 'An internal error occurred; it has been logged.',
      requestId: expect.any(String),
    });
    expect(JSON.stringify(answer.body)).not.toContain('secret');
    const logged = lines.find((l) => l.level === 50);
    expect(logged).toMatchObject({ requestId: answer.body.requestId, code: 'INTERNAL', err: expect.any(Object) });
    expect(JSON.stringify(logged)).toContain('disk on fire');
  });

  it('logs one line per request with its id, and never the API key', async () => {
    const answer = await sendJson(`${url}/api/v1/accounts`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(answer.status).toBe(200);
    const completed = lines.filter((l) => l.msg === 'request completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      method: 'GET',
      url: '/api/v1/accounts',
      statusCode: 200,
      requestId: expect.any(String),
    });
    expect(JSON.stringify(lines)).not.toContain(apiKey);
  });

  it('never logs the query string, where a client may have put a key', async () => {
    const key = apiKey.trim();
    const asQuery = await sendJson(`${url}/api/v1/accounts?api_key=${encodeURIComponent(key)}`);
    expect(asQuery.status).toBe(401);
    const both = await sendJson(`${url}/api/v1/accounts?api_key=${encodeURIComponent(key)}&x=1`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(both.status).toBe(200);
    const missing = await sendJson(`${url}/api/no/such/route?api_key=${encodeURIComponent(key)}`);
    expect(missing.status).toBe(404);
    expect(JSON.stringify(missing.body)).not.toContain(key);
    const completed = lines.filter((l) => l.msg === 'request completed');
    expect(completed.map((l) => l.url)).toEqual(['/api/v1/accounts', '/api/v1/accounts', '/api/no/such/route']);
    expect(lines.length).toBeGreaterThan(3);
    expect(JSON.stringify(lines)).not.toContain(key);
    expect(JSON.stringify(lines)).not.toContain('api_key');
  });
});
