import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cliJson, type ServerProcess, startServerProcess, tempDir } from '../../cli/test/harness.js';
import {
  describeInBrowser,
  expectAccessible,
  expectScreenshot,
  launchBrowser,
  poll,
  removeScreenshots,
  VIEWPORT,
} from './browser.js';

const TAG = 'regid.2026-01.com.example.Site_1.0';
const GOOD = 'Good — your machine is working well';

describeInBrowser('the portal in Chromium: an air-gapped satellite registered by files through two portals', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let authority: ServerProcess;
  let satellite: ServerProcess;
  let networked: ServerProcess;
  let browser: Browser;
  let onAuthority: Page;
  let onSatellite: Page;
  let vaId: string;
  let accountId: string;
  let headquartersId: string;
  let token = '';
  let requestFile = '';
  let responseFile = '';
  const dataOf = (name: string) => join(dir.path, name);
  const files = () => join(dir.path, 'files');

  /** Signs the owner in to the portal of `server` in `page` (its own browser context) and opens `path`. */
  async function signIn(page: Page, server: ServerProcess, dataDir: string, path: string): Promise<void> {
    await page.goto(new URL(path, server.url).toString());
    await poll(() => page.url()).toBe(new URL('/sign-in', server.url).toString());
    await page.getByLabel('E-mail').fill('admin');
    await page.getByLabel('Password').fill((await readFile(join(dataDir, 'admin-password'), 'utf8')).trim());
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await poll(() => page.url()).toBe(new URL(path, server.url).toString());
  }

  beforeAll(async () => {
    dir = await tempDir('smartlic-portal-sat-');
    const background = ['--job-start-delay', '3600'];
    [authority, satellite, networked] = await Promise.all([
      startServerProcess(dataOf('authority'), {}, 0, background),
      startServerProcess(dataOf('satellite'), {}, 0, ['--mode', 'satellite', ...background]),
      startServerProcess(dataOf('networked'), {}, 0, ['--mode', 'satellite', ...background]),
    ]);
    const admin = (args: string[]) => ['admin', '--server', authority.url, '--api-key', authority.apiKey, ...args];
    accountId = (await cliJson<{ id: string }>(admin(['account', 'create', 'Example', '--domain', 'ex.com']))).id;
    vaId = (await cliJson<{ id: string }>(admin(['va', 'create', 'Site', '--account', accountId]))).id;
    headquartersId = (await cliJson<{ id: string }>(admin(['va', 'create', 'Headquarters', '--account', accountId])))
      .id;
    await cliJson(admin(['license', 'add', '--va', vaId, '--tag', TAG, '--count', '10', '--name', 'Site License']));
    browser = await launchBrowser();
    // One context per server: both are on 127.0.0.1, and cookies do not tell ports apart.
    const contextOptions = { viewport: VIEWPORT, acceptDownloads: true };
    onAuthority = await (await browser.newContext(contextOptions)).newPage();
    onSatellite = await (await browser.newContext(contextOptions)).newPage();
    const { mkdir } = await import('node:fs/promises');
    await mkdir(files());
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await removeScreenshots();
    await Promise.all([authority?.stop(), satellite?.stop(), networked?.stop()]);
    await dir?.cleanup();
  });

  it('New Satellite… on the authority shows the one-time token for the VAs it serves', async () => {
    const page = onAuthority;
    await signIn(page, authority, dataOf('authority'), '/satellites');
    await poll(() => page.getByRole('cell', { name: 'No satellites yet.' }).isVisible()).toBe(true);
    await page.getByRole('button', { name: 'New Satellite…' }).click();
    const dialog = page.getByRole('dialog', { name: 'New Satellite' });
    await poll(() => dialog.isVisible()).toBe(true);
    // No Virtual Account chosen: one sentence, nothing made.
    await dialog.getByLabel('Name').fill('site-sat');
    await dialog.getByRole('button', { name: 'Create Satellite' }).click();
    await poll(() => dialog.getByRole('alert').textContent()).toBe(
      'Choose at least one Virtual Account for the satellite to serve.',
    );
    await dialog.getByRole('checkbox', { name: 'Site' }).check();
    await dialog.getByRole('button', { name: 'Create Satellite' }).click();
    const value = dialog.getByRole('textbox', { name: 'Satellite Token' });
    await poll(() => value.inputValue()).not.toBe('');
    token = await value.inputValue();
    await expectAccessible(page, 'the New Satellite dialog');
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
    const row = page.getByRole('row').filter({ hasText: 'site-sat' });
    await poll(async () => (await row.locator('td').allTextContents()).at(-2)).toBe('Not registered yet');
    // The owner is offered File Sync… and Remove.
    expect(await page.getByRole('button', { name: 'File Sync…' }).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Remove satellite site-sat' }).isVisible()).toBe(true);
  });

  it('Manual Synchronization… on the satellite downloads the registration request file', async () => {
    const page = onSatellite;
    await signIn(page, satellite, dataOf('satellite'), '/sync');
    await poll(() => page.locator('.health').textContent()).toMatch(/Not registered/);
    // Not registered and no upstream: no network synchronization is offered.
    expect(await page.getByRole('button', { name: 'Standard Synchronization' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Manual Synchronization…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Manual Synchronization' });
    await dialog.getByLabel('Satellite Token').fill(token);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      dialog.getByRole('button', { name: 'Download Request File' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^license-sync-request-satellite_\d{8}-0\.yml$/);
    requestFile = join(files(), download.suggestedFilename());
    await download.saveAs(requestFile);
    expect(JSON.parse(await readFile(requestFile, 'utf8'))).toMatchObject({ kind: 'registration-request' });
    await expectAccessible(page, 'the Manual Synchronization dialog');
  });

  it('File Sync… on the authority answers the request with a response file named like it', async () => {
    const page = onAuthority;
    await page.getByRole('button', { name: 'File Sync…' }).click();
    const dialog = page.getByRole('dialog', { name: 'File Sync' });
    await dialog.getByLabel('Request File').setInputFiles(requestFile);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      dialog.getByRole('button', { name: 'Upload and Download Response' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(
      requestFile.split('/').at(-1)?.replace('license-sync-request-', 'license-sync-response-'),
    );
    responseFile = join(files(), download.suggestedFilename());
    await download.saveAs(responseFile);
    await poll(() => dialog.getByRole('status').textContent()).toMatch(/^Applied request 0 of satellite site-sat;/);
    await expectAccessible(page, 'the File Sync dialog');
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
  });

  it('the satellite loads the response: Good, its served VA and 10 licenses', async () => {
    const page = onSatellite;
    const dialog = page.getByRole('dialog', { name: 'Manual Synchronization' });
    await dialog.getByLabel('Response File').setInputFiles(responseFile);
    await dialog.getByRole('button', { name: 'Upload Response File' }).click();
    await poll(() => dialog.getByRole('status').textContent()).toBe(
      'The registration response was loaded: this satellite is registered.',
    );
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
    await poll(() => page.locator('.health').textContent()).toBe(`Health: ${GOOD}`);
    const facts = page.locator('dl.facts');
    await poll(() => facts.textContent()).toContain('Satellitesite-sat');
    await poll(() => facts.textContent()).toContain('Virtual AccountsSite');
    expect(await page.locator('dl.facts dt:has-text("Last Sync Up") + dd time').count()).toBe(1);
    await expectAccessible(page, 'the Synchronization page');
    await expectScreenshot(page, 'satellite-sync', 'Synchronization');

    await page.goto(new URL(`/inventory/${vaId}/licenses`, satellite.url).toString());
    const row = page.getByRole('row').filter({ hasText: /Site License|Site_1\.0/ });
    await poll(async () => (await row.locator('td').allTextContents()).slice(0, 3)).toEqual(['10', '0', '+10']);
  });

  it("the authority's Satellites page lists the satellite with its last sync", async () => {
    const page = onAuthority;
    await page.reload();
    const row = page.getByRole('row').filter({ hasText: 'site-sat' });
    // Virtual Accounts, Product Instances, Last Sync Up, Last Sync Down, …, Alerts.
    await poll(async () => (await row.locator('td').allTextContents()).slice(0, 2)).toEqual(['Site', '0']);
    expect(await row.locator('td').nth(2).locator('time').count()).toBe(1);
    expect(await row.locator('td').nth(3).locator('time').count()).toBe(1);
    expect((await row.locator('td').allTextContents()).at(-2)).toBe('—');
    await expectAccessible(page, 'the Satellites page');
    await expectScreenshot(page, 'satellites-registered', 'Satellites');
  });

  it('a registered satellite carries a full sync request through File Sync… and applies its response once', async () => {
    await onSatellite.goto(new URL('/sync', satellite.url).toString());
    await onSatellite.getByRole('button', { name: 'Manual Synchronization…' }).click();
    const manual = onSatellite.getByRole('dialog', { name: 'Manual Synchronization' });
    await manual.getByRole('checkbox', { name: /^Full synchronization/ }).check();
    const [request] = await Promise.all([
      onSatellite.waitForEvent('download'),
      manual.getByRole('button', { name: 'Download Request File' }).click(),
    ]);
    expect(request.suggestedFilename()).toMatch(/^license-sync-request-site-sat_\d{8}-1\.yml$/);
    const requestPath = join(files(), request.suggestedFilename());
    await request.saveAs(requestPath);

    await onAuthority.getByRole('button', { name: 'File Sync…' }).click();
    const fileSync = onAuthority.getByRole('dialog', { name: 'File Sync' });
    await fileSync.getByLabel('Request File').setInputFiles(requestPath);
    const [response] = await Promise.all([
      onAuthority.waitForEvent('download'),
      fileSync.getByRole('button', { name: 'Upload and Download Response' }).click(),
    ]);
    const responsePath = join(files(), response.suggestedFilename());
    await response.saveAs(responsePath);
    await poll(() => fileSync.getByRole('status').textContent()).toMatch(/^Applied request 1 of satellite site-sat;/);
    // Not JSON at all: one sentence, nothing applied.
    await fileSync.getByLabel('Request File').setInputFiles({
      name: 'license-sync-request-junk.yml',
      mimeType: 'application/yaml',
      buffer: Buffer.from('not: [a sync file'),
    });
    await fileSync.getByRole('button', { name: 'Upload and Download Response' }).click();
    await poll(() => fileSync.getByRole('alert').textContent()).toBe(
      'license-sync-request-junk.yml is not a smartlic synchronisation file: it is not valid JSON; nothing was changed.',
    );
    await fileSync.getByRole('button', { name: 'Close', exact: true }).click();

    await manual.getByLabel('Response File').setInputFiles(responsePath);
    await manual.getByRole('button', { name: 'Upload Response File' }).click();
    await poll(() => manual.getByRole('status').textContent()).toBe('Response 1 was applied.');
    // The same response again is refused with one sentence.
    await manual.getByRole('button', { name: 'Upload Response File' }).click();
    await poll(() => manual.getByRole('alert').isVisible()).toBe(true);
    expect((await manual.getByRole('alert').textContent())?.length).toBeGreaterThan(10);
    await manual.getByRole('button', { name: 'Close', exact: true }).click();
    await poll(() => onSatellite.locator('.health').textContent()).toBe(`Health: ${GOOD}`);
  });

  it('a viewer of the account sees the satellites but is offered no New Satellite…, File Sync… or Remove', async () => {
    const grant = await fetch(new URL('/api/v1/users', authority.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${authority.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'viewer@ex.com', accountId, role: 'viewer', password: 'viewer-password-1' }),
    });
    expect(grant.status).toBeLessThan(300);
    const context = await browser.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    await page.goto(new URL('/satellites', authority.url).toString());
    await page.getByLabel('E-mail').fill('viewer@ex.com');
    await page.getByLabel('Password').fill('viewer-password-1');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await poll(() => page.getByRole('row').filter({ hasText: 'site-sat' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'New Satellite…' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'File Sync…' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Remove/ }).count()).toBe(0);
    await context.close();
  });

  it("Remove (confirmed) gives the satellite's VAs back to the authority", async () => {
    const page = onAuthority;
    await page.getByRole('button', { name: 'Remove satellite site-sat' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove Satellite' });
    await expectAccessible(page, 'the Remove Satellite dialog');
    await dialog.getByRole('button', { name: 'Remove', exact: true }).click();
    await poll(() => page.getByRole('status').first().textContent()).toBe(
      'Satellite site-sat removed; its Virtual Accounts are served here again.',
    );
    await poll(() => page.getByRole('cell', { name: 'No satellites yet.' }).isVisible()).toBe(true);
  });

  it('a satellite with a network path registers from its page, then synchronizes standard and full', async () => {
    const created = await cliJson<{ token: string }>([
      'admin',
      '--server',
      authority.url,
      '--api-key',
      authority.apiKey,
      'satellite',
      'create',
      'hq-sat',
      '--account',
      accountId,
      '--va',
      headquartersId,
    ]);
    const context = await browser.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    await signIn(page, networked, dataOf('networked'), '/sync');
    const form = page.getByRole('region', { name: 'Register This Satellite' });
    await poll(() => form.isVisible()).toBe(true);
    await expectAccessible(page, 'the Synchronization page of a satellite not registered yet');
    await form.getByLabel('Satellite Token').fill(created.token);
    await form.getByLabel('Upstream URL').fill(authority.url);
    await form.getByRole('button', { name: 'Register', exact: true }).click();
    await poll(() => page.locator('.health').textContent()).toBe(`Health: ${GOOD}`);
    await poll(() => form.count()).toBe(0);

    await page.getByRole('button', { name: 'Standard Synchronization' }).click();
    await poll(() => page.getByRole('status').first().textContent()).toMatch(/^Synchronization \d+ completed\.$/);
    await page.getByRole('button', { name: 'Full Synchronization Now…' }).click();
    const confirm = page.getByRole('dialog', { name: 'Full Synchronization' });
    await confirm.getByRole('button', { name: 'Synchronize Everything' }).click();
    await poll(() => page.getByRole('status').first().textContent()).toMatch(/^Full synchronization \d+ completed\.$/);
    await poll(() => page.locator('dl.facts').textContent()).toContain('Virtual AccountsHeadquarters');
    await context.close();
  });
});
