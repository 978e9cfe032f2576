import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../server/src/test-support/admin-client.js';
import { cliJson, runCli, type ServerProcess, startServerProcess, tempDir } from './harness.js';

interface Pak {
  id: string;
  number: string;
  status: string;
  skus: Array<{ sku: string; convertible: number }>;
}

const TAG = 'regid.2026-01.com.example.CUSP-5_1.0';

describe('PAK conversion, device-led conversion and webhooks through the CLI', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let server: ServerProcess;
  let accountId: string;
  let vaId: string;

  const admin = (args: string[]) => ['admin', '--server', server.url, '--api-key', server.apiKey, ...args];
  const device = (args: string[]) => runCli(['device', '--state', join(dir.path, 'device'), ...args]);

  beforeAll(async () => {
    dir = await tempDir();
    // The webhook test points at 127.0.0.1:9: nothing is sent off this machine.
    server = await startServerProcess(join(dir.path, 'data'), {}, 0, ['--webhook-allow-private']);
    // The set-up through the REST API: the CLI's account and VA commands have tests of their own.
    const api = new AdminClient(server.url, server.apiKey);
    accountId = (await api.createAccount('PAK Corp', 'pak.example.com')).id;
    vaId = (await api.createVa(accountId, 'Lab')).id;
  });
  afterAll(async () => {
    await server?.stop();
    await dir?.cleanup();
  });

  it('imports (flags and file), converts part of a PAK and shows the history', async () => {
    const pak = await cliJson<Pak>(
      admin([
        'pak',
        'import',
        '--account',
        accountId,
        '--number',
        'PAK-1',
        '--order',
        'SO-1',
        '--sku',
        `CUSP-5:${TAG}:25`,
      ]),
    );
    const file = join(dir.path, 'pak.json');
    await writeFile(
      file,
      JSON.stringify({ number: 'PAK-2', partialFulfilment: false, skus: [{ sku: 'X', tag: TAG, quantity: 3 }] }),
    );
    const whole = await cliJson<Pak>(admin(['pak', 'import', '--account', accountId, '--file', file]));

    const after = await cliJson<Pak>(admin(['pak', 'convert', pak.id, '--va', vaId, '--sku', 'CUSP-5:10']));
    expect(after.skus[0]?.convertible).toBe(15);
    const refused = await runCli(admin(['pak', 'convert', whole.id, '--va', vaId, '--sku', 'X:1']));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/does not allow partial fulfilment/);

    const listed = await cliJson<Pak[]>(admin(['pak', 'list', '--account', accountId]));
    expect(listed.map((p) => [p.number, p.skus[0]?.convertible])).toEqual([
      ['PAK-1', 15],
      ['PAK-2', 3],
    ]);
    const history = await cliJson<Array<{ pakNumber: string; quantity: number }>>(
      admin(['pak', 'history', '--account', accountId]),
    );
    expect(history.map((h) => [h.pakNumber, h.quantity])).toEqual([['PAK-1', 10]]);
    const text = await runCli(admin(['pak', 'history', '--account', accountId]));
    expect(text.stdout).toContain('PAK PAK-1 CUSP-5');
  });

  it('converts a device-led report once, once an admin has turned conversion on', async () => {
    const token = (await cliJson<{ token: string }>(admin(['token', 'create', '--va', vaId]))).token;
    expect((await device(['init', '--pid', 'WS-C3850-24T', '--sn', 'FOC1234'])).code).toBe(0);
    expect((await device(['call-home', 'destination', server.url, '--root', server.rootCaPath])).code).toBe(0);
    expect((await device(['license', 'smart', 'register', 'idtoken', token])).code).toBe(0);
    const convert = (...licenses: string[]) =>
      device(['license', 'smart', 'conversion', 'start', ...licenses.flatMap((l) => ['--license', l]), '--json']);

    // Off by default: one clear refusal.
    const off = await convert('PAK-9:ipbase:regid.c3850.ipbase:2');
    expect(off.code).not.toBe(0);
    expect(off.stderr).toContain(
      'Conversion failed: Device-led conversion is not enabled in this Virtual Account; an administrator of the Virtual Account can enable it.',
    );
    const shown = await cliJson<{ deviceConversion: { mode: string; autoMaxPerLicense: number } }>(
      admin(['va', 'show', '--va', vaId]),
    );
    expect(shown).toMatchObject({ id: vaId, reservationAllowed: false, deviceConversion: { mode: 'off' } });
    const badMode = await runCli(admin(['va', 'set', '--va', vaId, '--device-conversion', 'yes']));
    expect(badMode.code).not.toBe(0);
    expect(badMode.stderr).toContain('--device-conversion must be on, off or review, not "yes".');
    const set = await cliJson(
      admin(['va', 'set', '--va', vaId, '--device-conversion', 'on', '--conversion-auto-max', '10']),
    );
    expect(set).toMatchObject({ vaId, mode: 'on', autoMaxPerLicense: 10, maxLicensesPerReport: 1000 });
    const text = await runCli(admin(['va', 'show', '--va', vaId]));
    expect(text.stdout).toContain('Device-led conversion: on (10 per legacy license and 1000 per device');

    const first = await convert('PAK-9:ipbase:regid.c3850.ipbase:2', 'PAK-9:ap:regid.c3850.ap:50');
    expect(first.stderr).toBe('');
    expect(JSON.parse(first.stdout)).toMatchObject({
      ok: true,
      alreadyConverted: false,
      deposited: [{ tag: 'regid.c3850.ipbase', count: 2 }],
      pending: [{ legacyId: 'PAK-9:ap', tag: 'regid.c3850.ap', count: 50 }],
      message:
        'Converted: 2 × regid.c3850.ipbase. Awaiting approval by an administrator of the Virtual Account: 50 × regid.c3850.ap (PAK-9:ap).',
    });
    const second = await convert('PAK-9:ipbase:regid.c3850.ipbase:2', 'PAK-9:ap:regid.c3850.ap:50');
    expect(JSON.parse(second.stdout)).toMatchObject({ ok: true, alreadyConverted: true, deposited: [] });

    const pending = await cliJson<Array<{ id: string; legacyId: string; reason: string }>>(
      admin(['conversion', 'list', '--va', vaId, '--pending']),
    );
    expect(pending.map((c) => [c.legacyId, c.reason])).toEqual([['PAK-9:ap', 'over-license-cap']]);
    const approved = await runCli(admin(['conversion', 'approve', pending[0]!.id]));
    expect(approved.stdout).toContain(`Device conversion ${pending[0]!.id} (50 × regid.c3850.ap`);
    expect(approved.stdout).toContain('approved.');
    const again = await runCli(admin(['conversion', 'reject', pending[0]!.id]));
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('was already approved');
    const all = await cliJson<Array<{ status: string }>>(admin(['conversion', 'list', '--va', vaId]));
    expect(all.map((c) => c.status)).toEqual(['approved', 'approved']);
    const licenses = await cliJson<Array<{ tag: string; quantity: number }>>(admin(['license', 'list', '--va', vaId]));
    expect(licenses.filter((l) => l.tag.startsWith('regid.c3850')).map((l) => [l.tag, l.quantity])).toEqual([
      ['regid.c3850.ap', 50],
      ['regid.c3850.ipbase', 2],
    ]);
    const history = await cliJson<Array<{ kind: string; legacyId: string }>>(
      admin(['pak', 'history', '--account', accountId]),
    );
    expect(history.filter((h) => h.kind === 'device').map((h) => h.legacyId)).toEqual(['PAK-9:ipbase', 'PAK-9:ap']);
  });

  it('adds, lists, tests and removes a webhook', async () => {
    const hook = await cliJson<{ id: string; secret: string }>(
      admin(['webhook', 'add', '--account', accountId, '--url', 'http://127.0.0.1:9/hook', '--event', 'summary.daily']),
    );
    expect(hook.secret).toMatch(/^whsec_/);
    const list = await cliJson<Array<{ id: string; events: string[] }>>(
      admin(['webhook', 'list', '--account', accountId]),
    );
    expect(list).toMatchObject([{ id: hook.id, events: ['summary.daily'] }]);
    await cliJson(admin(['webhook', 'test', hook.id]));
    const deliveries = await cliJson<Array<{ eventType: string }>>(admin(['webhook', 'deliveries', hook.id]));
    expect(deliveries.map((d) => d.eventType)).toEqual(['webhook.test']);
    await cliJson(admin(['webhook', 'remove', hook.id]));
    expect(await cliJson(admin(['webhook', 'list', '--account', accountId]))).toEqual([]);
    const bad = await runCli(admin(['webhook', 'add', '--account', accountId, '--url', 'file:///etc/passwd']));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/http or https/);
  });
});
