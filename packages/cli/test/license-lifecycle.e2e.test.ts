import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock } from '@smartlic/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AdminClient } from '../../server/src/test-support/admin-client.js';
import { describeEachEngine } from '../../server/src/test-support/postgres.js';
import { SimDevice } from '../../server/src/test-support/sim-device.js';
import {
  cliJson,
  inspectServer,
  runCli,
  type ServerProcess,
  serverDatabase,
  startServerProcess,
  tempDir,
} from './harness.js';

interface LicenseRow {
  tag: string;
  quantity: number;
  inUse: number;
  surplus: number;
  alerts: string[];
  coveredBy?: { tag: string; count: number }[];
}
interface InstanceRow {
  id: string;
  sn: string;
  alerts: string[];
}

const TAG = 'regid.2026-01.com.example.Lifecycle_1.0';
const GENERIC = 'C9500 Network Advantage';
const SPECIFIC = 'C9500 32C NW Advantage';

describeEachEngine(
  'license lifecycle through the CLI: silent device on the simulated clock, hierarchy, transfers, reports',
  (engine) => {
    let database: Awaited<ReturnType<typeof serverDatabase>> | undefined;
    let dir: { path: string; cleanup: () => Promise<void> };
    let server: ServerProcess | undefined;
    let accountId: string;
    let vaId: string;
    let otherVaId: string;
    const dataDir = () => join(dir.path, 'data');
    const admin = (args: string[]) => ['admin', '--server', server!.url, '--api-key', server!.apiKey, ...args];
    const licenses = async () => cliJson<LicenseRow[]>(admin(['license', 'list', '--va', vaId]));
    const eventTypes = async (): Promise<string[]> => {
      const res = await fetch(`${server!.url}/api/v1/virtual-accounts/${vaId}/events?limit=500`, {
        headers: { authorization: `Bearer ${server!.apiKey}` },
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { items: { type: string }[] }).items.map((e) => e.type);
    };
    const restartAt = async (offset: string) => {
      await server?.stop();
      // The test runs the jobs itself (`admin job run`) at each simulated time: no background run in between.
      server = await startServerProcess(
        dataDir(),
        { SMARTLIC_DEV_CLOCK: '1', SMARTLIC_CLOCK_OFFSET: offset },
        0,
        ['--job-start-delay', '3600'],
        { db: database?.db },
      );
    };

    beforeAll(async () => {
      dir = await tempDir();
      database = await serverDatabase(engine);
      await restartAt('0d');
      // The set-up through the REST API and a simulated device: what is under test here is the
      // lifecycle that follows (the CLI's create, add, token and device commands have tests of their own).
      const api = new AdminClient(server!.url, server!.apiKey);
      accountId = (await api.createAccount('Lifecycle Corp', 'lifecycle.example')).id;
      vaId = (await api.createVa(accountId, 'Lab')).id;
      otherVaId = (await api.createVa(accountId, 'Other')).id;
      await api.addLicense(vaId, { tag: TAG, count: 10 });
      const token = (await api.createToken(vaId)).token;
      const rootCaPem = await readFile(server!.rootCaPath, 'utf8');
      const sw1 = new SimDevice(
        { url: server!.url, clock: systemClock, rootCaPem },
        { pid: 'C9300-24UX', sn: 'FOC1234X0AB' },
      );
      expect((await sw1.register(token, { hostname: 'sw1' })).status).toBe(200);
      expect((await sw1.authorize([{ tag: TAG, count: 3 }])).status).toBe(200);
    });

    afterAll(async () => {
      await server?.stop();
      await database?.release();
      await dir?.cleanup();
    });

    it('defines a hierarchy, transfers licenses, searches instances and writes CSV reports', async () => {
      await cliJson(admin(['tag', 'define', SPECIFIC, '--parent', GENERIC]));
      await cliJson(
        admin(['license', 'add', '--va', vaId, '--tag', 'C9500 40X NW Advantage', '--count', '1', '--parent', GENERIC]),
      );
      const tags = await cliJson<{ tag: string; parent: string | null }[]>(admin(['tag', 'list']));
      expect(tags).toEqual(expect.arrayContaining([{ tag: 'C9500 40X NW Advantage', name: null, parent: GENERIC }]));
      const cycle = await runCli(admin(['tag', 'define', GENERIC, '--parent', SPECIFIC]));
      expect(cycle.code).not.toBe(0);
      expect(cycle.stderr).toMatch(/ancestor/);

      await cliJson(admin(['license', 'transfer', '--va', vaId, '--tag', TAG, '--count', '2', '--to', otherVaId]));
      expect((await licenses()).find((r) => r.tag === TAG)).toMatchObject({ quantity: 8, inUse: 3, surplus: 5 });
      const tooMany = await runCli(
        admin(['license', 'transfer', '--va', vaId, '--tag', TAG, '--count', '6', '--to', otherVaId]),
      );
      expect(tooMany.code).not.toBe(0);
      expect(tooMany.stderr).toMatch(/Only 5 unused/);

      const found = await cliJson<InstanceRow[]>(
        admin(['instance', 'list', '--va', vaId, '--search', 'foc1234', '--limit', '5']),
      );
      expect(found.map((i) => i.sn)).toEqual(['FOC1234X0AB']);
      expect(
        await cliJson<InstanceRow[]>(admin(['instance', 'list', '--va', vaId, '--search', 'nothing-like-it'])),
      ).toEqual([]);

      const csv = await runCli(admin(['report', 'instances', '--va', vaId, '--format', 'csv']));
      expect(csv.code).toBe(0);
      expect(csv.stdout.split('\r\n')[0]).toBe(
        'id,pid,sn,hostname,softwareTag,registeredAt,lastContact,usage,status,alerts',
      );
      expect(csv.stdout).toContain(`FOC1234X0AB,sw1`);
    });

    it('pages instances with --limit and --cursor, and writes reports as JSON lines', async () => {
      // Three instances planted in the other VA (as a fleet would register them), one registration time.
      await inspectServer(server!, (db) =>
        db
          .insertInto('instances')
          .values(
            ['C', 'A', 'B'].map((sn) => ({
              id: `paged-${sn}`,
              va_id: otherVaId,
              token_id: null,
              pid: 'PAGED',
              sn,
              hostname: null,
              software_tag: 'sw',
              public_key_spki: 'k',
              id_cert_pem: 'c',
              id_cert_serial: sn,
              id_cert_expires_at: 4102444800000,
              registered_at: 1800000000000,
              last_contact_at: 1800000000000,
              export_controlled: 0,
            })),
          )
          .execute(),
      );
      const all = await cliJson<InstanceRow[]>(admin(['instance', 'list', '--va', otherVaId]));
      expect(all.map((i) => i.sn)).toEqual(['A', 'B', 'C']);

      const first = await runCli(admin(['instance', 'list', '--va', otherVaId, '--limit', '2', '--json']));
      expect(first.code).toBe(0);
      expect(JSON.parse(first.stdout)).toEqual(all.slice(0, 2));
      const cursor = /More: --cursor (\S+)/.exec(first.stderr)?.[1];
      expect(cursor).toBeDefined();
      const text = await runCli(admin(['instance', 'list', '--va', otherVaId, '--limit', '2']));
      expect(text.stdout.trim().split('\n').at(-1)).toBe(`More: --cursor ${cursor}`);
      const rest = await runCli(
        admin(['instance', 'list', '--va', otherVaId, '--limit', '2', '--cursor', cursor!, '--json']),
      );
      expect(JSON.parse(rest.stdout)).toEqual(all.slice(2));
      expect(rest.stderr).not.toMatch(/More:/);
      const bad = await runCli(admin(['instance', 'list', '--va', otherVaId, '--cursor', 'not-a-cursor']));
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/cursor/);

      const jsonl = await runCli(admin(['report', 'instances', '--va', otherVaId, '--format', 'jsonl']));
      expect(jsonl.code).toBe(0);
      const lines = jsonl.stdout.split('\n');
      expect(lines.at(-1)).toBe('');
      expect(lines.slice(0, -1).map((l) => (JSON.parse(l) as { sn: string }).sn)).toEqual(['A', 'B', 'C']);
      const wrong = await runCli(admin(['report', 'instances', '--va', otherVaId, '--format', 'xml']));
      expect(wrong.stderr).toMatch(/json, csv or jsonl/);

      await inspectServer(server!, (db) => db.deleteFrom('instances').where('pid', '=', 'PAGED').execute());
    });

    it('repairs a corrupted usage total with admin usage reconcile, for one VA (by name) or every VA', async () => {
      expect(await cliJson(admin(['usage', 'reconcile']))).toEqual({ vas: 2, corrected: 0 });
      await inspectServer(server!, (db) =>
        db.updateTable('va_usage').set({ in_use: 40 }).where('va_id', '=', vaId).where('tag', '=', TAG).execute(),
      );
      expect((await licenses()).find((r) => r.tag === TAG)).toMatchObject({ inUse: 40 });
      expect(await cliJson(admin(['usage', 'reconcile', '--va', 'Lab']))).toEqual({ vas: 1, corrected: 1 });
      expect((await licenses()).find((r) => r.tag === TAG)).toMatchObject({ inUse: 3 });
      const text = await runCli(admin(['usage', 'reconcile']));
      expect(text.stdout).toBe("Usage totals of 2 Virtual Account(s) match the instances' usage.\n");
      expect(await eventTypes()).toContain('usage.reconciled');
    });

    it('a device silent for 30 days raises the alert, at 90 days its usage is back, at one year it is gone', async () => {
      await restartAt('31d');
      expect((await runCli(admin(['job', 'run']))).code).toBe(0);
      const [instance] = await cliJson<InstanceRow[]>(admin(['instance', 'list', '--va', vaId]));
      expect(instance?.alerts).toEqual(['No contact for 30 days']);
      expect((await licenses()).find((r) => r.tag === TAG)).toMatchObject({
        inUse: 3,
        alerts: ['3 in use by instances silent for 30+ days'],
      });
      expect(await eventTypes()).toContain('instance.silent');

      await restartAt('91d');
      expect((await runCli(admin(['job', 'run']))).code).toBe(0);
      expect((await licenses()).find((r) => r.tag === TAG)).toMatchObject({ quantity: 8, inUse: 0, surplus: 8 });
      expect(await eventTypes()).toContain('instance.usage-released');

      await restartAt('366d');
      await cliJson(admin(['job', 'run']));
      expect(await cliJson<InstanceRow[]>(admin(['instance', 'list', '--va', vaId]))).toEqual([]);
      const types = await eventTypes();
      expect(types.filter((t) => t === 'instance.removed')).toHaveLength(1);
      expect(types.filter((t) => t === 'instance.silent')).toHaveLength(1);

      const usage = await cliJson<{ day: string; tag: string; inUse: number }[]>(
        admin(['report', 'usage', '--va', vaId]),
      );
      expect(usage.filter((u) => u.tag === TAG).map((u) => u.inUse)).toEqual([3, 0, 0]);
    });
  },
);
