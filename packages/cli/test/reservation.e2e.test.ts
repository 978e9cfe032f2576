import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AdminClient } from '../../server/src/test-support/admin-client.js';
import { describeEachEngine } from '../../server/src/test-support/postgres.js';
import { cliJson, runCli, type ServerProcess, serverDatabase, startServerProcess, tempDir } from './harness.js';

interface LicenseRow {
  tag: string;
  quantity: number;
  inUse: number;
}
interface Status {
  registration: { status: string; statusText: string };
  authorization: { status: string };
  usage: { tag: string; count: number; status: string }[];
  reservation?: {
    status: string;
    lastConfirmationCode: { code: string } | null;
    lastReturnCode: { code: string } | null;
  };
}

const TAG_A = 'regid.2026-01.com.example.A_1.0';

/**
 * SPEC §7 acceptance: the device and the authority share nothing but text copied through files
 * (the request code, the authorization codes, the confirmation and return codes, and the
 * authority's root certificate the device trusts).
 */
describeEachEngine('offline license reservation through the CLI', (engine) => {
  let database: Awaited<ReturnType<typeof serverDatabase>> | undefined;
  let dir: { path: string; cleanup: () => Promise<void> };
  let server: ServerProcess;
  let vaId: string;

  const admin = (args: string[]) => ['admin', '--server', server.url, '--api-key', server.apiKey, ...args];
  const state = () => join(dir.path, 'device');
  const device = (args: string[]) => runCli(['device', '--state', state(), ...args]);
  const status = () => cliJson<Status>(['device', '--state', state(), 'show', 'license', 'status']);
  const inUse = async () =>
    (await cliJson<LicenseRow[]>(admin(['license', 'list', '--va', vaId]))).find((r) => r.tag === TAG_A)?.inUse;
  const file = (name: string) => join(dir.path, 'exchange', name);
  /** What one side writes down for the other. */
  const handOver = async (name: string, text: string) => writeFile(file(name), `${text}\n`);
  const pickUp = async (name: string) => (await readFile(file(name), 'utf8')).trim();

  beforeAll(async () => {
    dir = await tempDir();
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir.path, 'exchange'));
    database = await serverDatabase(engine);
    server = await startServerProcess(join(dir.path, 'data'), {}, 0, [], { db: database.db });
    // The set-up through the REST API: the CLI's account, VA and license commands have tests of their own.
    const api = new AdminClient(server.url, server.apiKey);
    const account = await api.createAccount('Air Gap Corp', 'airgap.example');
    vaId = (await api.createVa(account.id, 'Bunker')).id;
    await api.addLicense(vaId, { tag: TAG_A, count: 10, name: 'Feature A' });
    await copyFile(server.rootCaPath, file('authority-root.pem'));
  });

  afterAll(async () => {
    await server?.stop();
    await database?.release();
    await dir?.cleanup();
  });

  it('enable → request → reserve 3 → install → update to 5 → confirm → return', async () => {
    // Device: enable reservation (trusting the authority's root, copied as a file) and request.
    expect((await device(['init', '--pid', 'C9300-24UX', '--sn', 'FCW2134L0RN'])).code).toBe(0);
    expect((await device(['use', TAG_A, '3'])).code).toBe(0);
    const enabled = await device(['license', 'smart', 'reservation', 'enable', '--root', file('authority-root.pem')]);
    expect(enabled.stderr).toBe('');
    const request = await cliJson<{ code: string }>([
      'device',
      '--state',
      state(),
      'license',
      'smart',
      'reservation',
      'request',
    ]);
    expect(request.code).toMatch(/^R1-C9300-24UX:FCW2134L0RN-/);
    await handOver('request.txt', request.code);
    expect((await status()).reservation?.status).toBe('REQUEST PENDING');

    // Authority: allow reservation in the VA, reserve 3 of tag A, write the authorization code to a file.
    expect((await runCli(admin(['reservation', 'allow', '--va', vaId]))).code).toBe(0);
    const created = await cliJson<{ id: string; instanceId: string; authorizationCode: string }>(
      admin([
        'reservation',
        'create',
        '--va',
        vaId,
        '--request-code',
        await pickUp('request.txt'),
        '--license',
        `${TAG_A}:3`,
        '--out',
        file('authorization-1.txt'),
      ]),
    );
    expect(created.authorizationCode).toMatch(/^A1-/);
    expect(await inUse()).toBe(3);
    const instances = await cliJson<{ id: string; sn: string; usage: { count: number }[] }[]>(
      admin(['instance', 'list', '--va', vaId]),
    );
    expect(instances).toMatchObject([{ id: created.instanceId, sn: 'FCW2134L0RN', usage: [{ count: 3 }] }]);

    // Device: install from the file → AUTHORIZED - RESERVED.
    const installed = await device(['license', 'smart', 'reservation', 'install-file', file('authorization-1.txt')]);
    expect(installed.stderr).toBe('');
    expect(installed.code).toBe(0);
    let s = await status();
    expect(s.authorization.status).toBe('AUTHORIZED - RESERVED');
    expect(s.registration.statusText).toBe('REGISTERED - SPECIFIC LICENSE RESERVATION');
    expect(s.usage).toEqual([expect.objectContaining({ tag: TAG_A, count: 3, status: 'RESERVED' })]);
    const text = await device(['show', 'license', 'status']);
    expect(text.stdout).toContain('License Reservation:');
    expect(text.stdout).toContain('Status: AUTHORIZED - RESERVED');

    // The same code again: refused, nothing changes.
    const twice = await device(['license', 'smart', 'reservation', 'install-file', file('authorization-1.txt')]);
    expect(twice.code).not.toBe(0);
    expect(twice.stderr.trim()).toBe('smartlic: This authorization code is already installed.');

    // Authority: update to 5 → a new authorization code (pasted this time).
    const updated = await cliJson<{ authorizationCode: string }>(
      admin(['reservation', 'update', '--instance', created.instanceId, '--license', `${TAG_A}:5`]),
    );
    await handOver('authorization-2.txt', updated.authorizationCode);
    const confirm = await cliJson<{ code: string }>([
      'device',
      '--state',
      state(),
      'license',
      'smart',
      'reservation',
      'install',
      await readFile(file('authorization-2.txt'), 'utf8'),
    ]);
    expect(confirm.code).toMatch(/^C1-/);
    await handOver('confirmation.txt', confirm.code);
    expect((await status()).reservation?.lastConfirmationCode?.code).toBe(confirm.code);
    const confirmed = await runCli(
      admin(['reservation', 'confirm', '--instance', created.instanceId, '--code', await pickUp('confirmation.txt')]),
    );
    expect(confirmed.stderr).toBe('');
    expect(confirmed.code).toBe(0);
    expect(await inUse()).toBe(5);

    // Device: return → return code → authority: counts back, instance gone, device unregistered.
    const returned = await cliJson<{ code: string }>([
      'device',
      '--state',
      state(),
      'license',
      'smart',
      'reservation',
      'return',
    ]);
    expect(returned.code).toMatch(/^([1-9A-Za-z]{6}-){9}[1-9A-Za-z]{3}$/);
    await handOver('return.txt', returned.code);
    const removed = await runCli(
      admin(['reservation', 'return', '--instance', created.instanceId, '--code', await pickUp('return.txt')]),
    );
    expect(removed.stderr).toBe('');
    expect(removed.code).toBe(0);
    expect(await inUse()).toBe(0);
    expect(await cliJson<unknown[]>(admin(['instance', 'list', '--va', vaId]))).toEqual([]);
    s = await status();
    expect(s.registration.status).toBe('UNREGISTERED');
    expect(s.authorization.status).not.toBe('AUTHORIZED - RESERVED');
    expect(s.reservation?.lastReturnCode?.code).toBe(returned.code);

    // The return code replayed: one clear refusal.
    const replay = await runCli(
      admin(['reservation', 'return', '--instance', created.instanceId, '--code', returned.code]),
    );
    expect(replay.code).not.toBe(0);
    expect(replay.stderr.trim()).toBe('smartlic: This return code has already been used.');

    // Events of every step.
    const events = await cliJson<{ type: string }[] | { items: { type: string }[] }>(
      admin(['event', 'list', '--va', vaId]),
    ).catch(() => undefined);
    if (events) {
      const types = (Array.isArray(events) ? events : events.items).map((e) => e.type);
      for (const t of ['reservation.created', 'reservation.updated', 'reservation.confirmed', 'reservation.returned']) {
        expect(types).toContain(t);
      }
    }
  });

  it('refuses a mistyped request code, a reservation above what is available, and a code for another device', async () => {
    const other = join(dir.path, 'other');
    const run = (args: string[]) => runCli(['device', '--state', other, ...args]);
    expect((await run(['init', '--pid', 'C9300-24UX', '--sn', 'OTHER1'])).code).toBe(0);
    expect((await run(['license', 'smart', 'reservation', 'enable', '--root', file('authority-root.pem')])).code).toBe(
      0,
    );
    const { code } = await cliJson<{ code: string }>([
      'device',
      '--state',
      other,
      'license',
      'smart',
      'reservation',
      'request',
    ]);
    const typo = code.slice(0, 30) + (code[30] === 'a' ? 'b' : 'a') + code.slice(31);
    const bad = await runCli(
      admin(['reservation', 'create', '--va', vaId, '--request-code', typo, '--license', `${TAG_A}:1`]),
    );
    expect(bad.stderr.trim()).toBe(
      'smartlic: The request code is not valid: it was mistyped, truncated or altered. Copy it again.',
    );
    const tooMany = await runCli(
      admin(['reservation', 'create', '--va', vaId, '--request-code', code, '--license', `${TAG_A}:11`]),
    );
    expect(tooMany.stderr.trim()).toBe(
      `smartlic: The Virtual Account does not have enough '${TAG_A}' licenses available: 11 asked, 10 available.`,
    );
    expect(await inUse()).toBe(0);
    // A code for this device installed on the first one: refused.
    const created = await cliJson<{ authorizationCode: string }>(
      admin(['reservation', 'create', '--va', vaId, '--request-code', code, '--license', `${TAG_A}:1`]),
    );
    const wrong = await device(['license', 'smart', 'reservation', 'install', created.authorizationCode]);
    expect(wrong.stderr.trim()).toBe(
      'smartlic: This authorization code is for another product (PID:C9300-24UX SN:OTHER1).',
    );
  });
});
