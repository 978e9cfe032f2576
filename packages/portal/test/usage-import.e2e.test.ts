import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cliJson, runCli, type ServerProcess, startServerProcess, tempDir } from '../../cli/test/harness.js';
import { describeInBrowser, expectAccessible, launchBrowser, poll, VIEWPORT } from './browser.js';

const TAG = 'regid.2026-01.com.example.dna-advantage';

interface Status {
  policy: { usageReporting: { lastAckReceived: string | null; unacknowledgedReports: number } };
}

describeInBrowser('the portal in Chromium: Usage Import… takes a policy device’s usage file and gives its ACK', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let vaId = '';
  let accountId = '';
  const files = () => join(dir.path, 'files');
  const url = (path: string) => new URL(path, server.url).toString();
  const admin = (args: string[]) => ['admin', '--server', server.url, '--api-key', server.apiKey, ...args];
  const device = (args: string[]) => runCli(['device', '--state', join(dir.path, 'offline'), ...args]);
  const dialog = () => page.getByRole('dialog', { name: 'Usage Import' });

  beforeAll(async () => {
    dir = await tempDir('smartlic-portal-usage-');
    await mkdir(files());
    server = await startServerProcess(join(dir.path, 'data'), {}, 0, ['--job-start-delay', '3600']);
    const account = await cliJson<{ id: string }>(
      admin(['account', 'create', 'Policy Corp', '--domain', 'pc.example']),
    );
    accountId = account.id;
    vaId = (await cliJson<{ id: string }>(admin(['va', 'create', 'Campus', '--account', account.id]))).id;
    await cliJson(admin(['license', 'add', '--va', vaId, '--tag', TAG, '--count', '10', '--name', 'DNA Advantage']));
    const token = (await cliJson<{ token: string }>(admin(['token', 'create', '--va', vaId]))).token;
    // A policy device trusted online, then using 2 licenses and saving its usage to a file.
    for (const args of [
      ['init', '--pid', 'C9300-24UX', '--sn', 'FCW0000R001', '--model', 'policy'],
      ['call-home', 'destination', server.url, '--root', server.rootCaPath],
      ['license', 'smart', 'trust', 'idtoken', token, 'local'],
      ['use', TAG, '2'],
      ['license', 'smart', 'save', 'usage', 'all', join(files(), 'usage.json')],
    ]) {
      const run = await device(args);
      expect(run.code, run.stderr).toBe(0);
    }
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: VIEWPORT, acceptDownloads: true })).newPage();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await dir?.cleanup();
  });

  it('the owner signs in; a file that is not a usage file gets one sentence and changes nothing', async () => {
    await page.goto(url(`/inventory/${vaId}/instances`));
    await poll(() => page.url()).toBe(url('/sign-in'));
    await page.getByLabel('E-mail').fill('admin');
    await page.getByLabel('Password').fill((await readFile(join(dir.path, 'data', 'admin-password'), 'utf8')).trim());
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await poll(() => page.url()).toBe(url(`/inventory/${vaId}/instances`));
    await page.getByRole('button', { name: 'Usage Import…' }).click();
    await poll(() => dialog().isVisible()).toBe(true);
    await expectAccessible(page, 'the Usage Import dialog');
    await writeFile(join(files(), 'notes.txt'), 'not json at all\n');
    await dialog().getByLabel('Usage File').setInputFiles(join(files(), 'notes.txt'));
    await dialog().getByRole('button', { name: 'Import and Download ACK' }).click();
    await poll(() => dialog().getByRole('alert').textContent()).toBe('notes.txt is not a usage file (not JSON).');
    await writeFile(join(files(), 'other.json'), '{"hello": "world"}\n');
    await dialog().getByLabel('Usage File').setInputFiles(join(files(), 'other.json'));
    await dialog().getByRole('button', { name: 'Import and Download ACK' }).click();
    await poll(() => dialog().getByRole('alert').textContent()).toBe(
      'other.json is not a usage file: it names no product instance.',
    );
    const licenses = await cliJson<{ tag: string; inUse: number }[]>(admin(['license', 'list', '--va', vaId]));
    expect(licenses.find((l) => l.tag === TAG)?.inUse).toBe(0);
  });

  it('the usage file is imported, the ACK downloads and loads on the device, and the Licenses tab shows 2 in use', async () => {
    await dialog().getByLabel('Usage File').setInputFiles(join(files(), 'usage.json'));
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      dialog().getByRole('button', { name: 'Import and Download ACK' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('usage-ack.json');
    const ackFile = join(files(), download.suggestedFilename());
    await download.saveAs(ackFile);
    await poll(() => dialog().getByRole('status').textContent()).toBe(
      'Imported 1 report(s): 1 recorded now, 0 recorded before; 1 acknowledged. The ACK file usage-ack.json was downloaded: load it on the device with license smart import usage-ack.json.',
    );
    await expectAccessible(page, 'the Usage Import dialog after the import');
    await dialog().getByRole('button', { name: 'Close', exact: true }).click();

    const loaded = await device(['license', 'smart', 'import', ackFile]);
    expect(loaded.code, loaded.stderr).toBe(0);
    const status = await cliJson<Status>([
      'device',
      '--state',
      join(dir.path, 'offline'),
      'show',
      'license',
      'status',
      '--json',
    ]);
    expect(status.policy.usageReporting.lastAckReceived).not.toBeNull();
    expect(status.policy.usageReporting.unacknowledgedReports).toBe(0);

    await page.getByRole('tab', { name: 'Licenses' }).click();
    const row = page.getByRole('row').filter({ hasText: 'DNA Advantage' });
    await poll(async () => (await row.locator('td').allTextContents()).slice(0, 2)).toEqual(['10', '2']);
  });

  it('a viewer of the VA is offered no Usage Import…, and the API refuses the upload', async () => {
    const { apiKey } = await cliJson<{ apiKey: string }>(
      admin(['user', 'create', 'viewer@pc.example', '--account', accountId, '--role', 'viewer']),
    );
    const viewer = await browser.newContext({ viewport: VIEWPORT });
    try {
      // An API key signs in too; the session cookie stays in the context.
      expect((await viewer.request.post(url('/api/v1/session'), { data: { apiKey } })).status()).toBe(200);
      const view = await viewer.newPage();
      await view.goto(url(`/inventory/${vaId}/instances`));
      await poll(() => view.getByRole('row').filter({ hasText: 'UDI_SN:FCW0000R001' }).count()).toBe(1);
      expect(await view.getByRole('button', { name: 'Usage Import…' }).count()).toBe(0);
      const usage = JSON.parse(await readFile(join(files(), 'usage.json'), 'utf8')) as { instanceId: string };
      const { csrfToken } = (await (await viewer.request.get(url('/api/v1/session'))).json()) as { csrfToken: string };
      const refused = await viewer.request.post(url(`/api/v1/instances/${usage.instanceId}/usage-reports`), {
        headers: { 'x-csrf-token': csrfToken, origin: new URL(server.url).origin },
        data: usage,
      });
      expect(refused.status()).toBe(403);
    } finally {
      await viewer.close();
    }
  });
});
