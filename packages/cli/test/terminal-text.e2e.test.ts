import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { type OpenDatabase, openSqliteDatabase } from '@smartlic/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliJson, runCli, type ServerProcess, startServerProcess, tempDir } from './harness.js';

const TAG = 'regid.2026-01.com.example.Terminal_1.0';
const ESC = '\u001b';
/** Any control character (C0, DEL, C1) but the line feeds of the layout. */
const RAW_CONTROL = /[^\P{Cc}\n]/u;

// The device routes now refuse such text; rows written before (or by a damaged database) are
// planted directly, and the CLI must show them without letting the terminal act on them.
describe('the CLI shows server-supplied text with its control characters escaped', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let server: ServerProcess;
  let database: OpenDatabase;
  let vaId: string;
  const admin = (args: string[]) => ['admin', '--server', server.url, '--api-key', server.apiKey, ...args];

  beforeAll(async () => {
    dir = await tempDir();
    server = await startServerProcess(join(dir.path, 'data'));
    const accountId = (await cliJson<{ id: string }>(admin(['account', 'create', 'Term', '--domain', 'term.example'])))
      .id;
    vaId = (await cliJson<{ id: string }>(admin(['va', 'create', 'Lab', '--account', accountId]))).id;
    await cliJson(admin(['license', 'add', '--va', vaId, '--tag', TAG, '--count', '5']));
    const token = (await cliJson<{ token: string }>(admin(['token', 'create', '--va', vaId]))).token;
    const device = (args: string[]) => runCli(['device', '--state', join(dir.path, 'device'), ...args]);
    expect((await device(['init', '--pid', 'C9300-24UX', '--sn', 'TERM1', '--hostname', 'sw1'])).code).toBe(0);
    expect((await device(['call-home', 'destination', server.url, '--root', server.rootCaPath])).code).toBe(0);
    expect((await device(['license', 'smart', 'register', 'idtoken', token])).code).toBe(0);
    expect((await device(['use', TAG, '2'])).code).toBe(0);

    database = openSqliteDatabase(join(server.dataDir, 'smartlic.db'));
    await database.db
      .updateTable('instances')
      .set({ hostname: `sw1${ESC}[31mred${ESC}]0;owned\u0007` })
      .execute();
    await database.db
      .updateTable('license_pools')
      .set({ display_name: `Terminal${ESC}[2J\u009b31m` })
      .where('tag', '=', TAG)
      .execute();
    const at = Date.now();
    await database.db
      .insertInto('license_pools')
      .values({
        id: randomUUID(),
        va_id: vaId,
        tag: `regid.${ESC}[31mplanted`,
        display_name: null,
        quantity: 1,
        type: 'perpetual',
        starts_at: at - 60_000,
        ends_at: null,
        created_at: at - 60_000,
      })
      .execute();
  });

  afterAll(async () => {
    await database?.close();
    await server?.stop();
    await dir?.cleanup();
  });

  it('admin instance list: the host name is printed escaped, never raw', async () => {
    const listed = await runCli(admin(['instance', 'list', '--va', vaId]));
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('sw1\\u001b[31mred\\u001b]0;owned\\u0007');
    expect(listed.stdout).not.toMatch(RAW_CONTROL);
  });

  it('admin license list: the tag and the display name are printed escaped, never raw', async () => {
    const listed = await runCli(admin(['license', 'list', '--va', vaId]));
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`Terminal\\u001b[2J\\u009b31m (${TAG})`);
    expect(listed.stdout).toContain('regid.\\u001b[31mplanted');
    expect(listed.stdout).not.toMatch(RAW_CONTROL);
  });

  it('--json stays JSON, escaped for the terminal too, and gives the text back exactly', async () => {
    const [instance] = await cliJson<Array<{ hostname: string }>>(admin(['instance', 'list', '--va', vaId]));
    expect(instance?.hostname).toBe(`sw1${ESC}[31mred${ESC}]0;owned\u0007`);
    const listed = await runCli(admin(['license', 'list', '--va', vaId, '--json']));
    expect(listed.stdout).toContain('Terminal\\u001b[2J\\u009b31m');
    expect(listed.stdout).not.toMatch(RAW_CONTROL);
    const rows = JSON.parse(listed.stdout) as Array<{ tag: string; name: string }>;
    expect(rows.find((r) => r.tag === TAG)?.name).toBe(`Terminal${ESC}[2J\u009b31m`);
  });
});
