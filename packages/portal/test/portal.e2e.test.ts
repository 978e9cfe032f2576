import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cliJson, runCli, type ServerProcess, startServerProcess, tempDir } from '../../cli/test/harness.js';
import {
  describeInBrowser,
  expectAccessible,
  expectScreenshot,
  launchBrowser,
  poll,
  removeScreenshots,
  VIEWPORT,
} from './browser.js';

const TAG_A = 'C9300 DNA Advantage';
const TAG_B = 'C9300 Network Essentials';
const MINUS = '\u2212';

interface Forecast {
  tag: string;
  shortageDate: string | null;
}

describeInBrowser('the portal in Chromium: an operator signs in, makes a token, watches a pool run short', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let server: ServerProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let firstStart = '';
  let firstUrl = '';
  let accountId: string;
  let labId: string;
  let spareId: string;
  let token = '';
  const dataDir = () => join(dir.path, 'data');
  const admin = (args: string[]) => ['admin', '--server', server.url, '--api-key', server.apiKey, ...args];
  const device = (name: string, args: string[]) => runCli(['device', '--state', join(dir.path, name), ...args]);
  const deviceJson = <T>(name: string, args: string[]) =>
    cliJson<T>(['device', '--state', join(dir.path, name), ...args]);
  const url = (path: string) => new URL(path, server.url).toString();
  const ownerApi = async (method: string, path: string, body?: unknown) =>
    fetch(url(`/api/v1${path}`), {
      method,
      headers: { authorization: `Bearer ${server.apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : null,
    });
  const tab = (name: string) => page.getByRole('tab', { name });
  const rowOf = (text: string) => page.getByRole('row').filter({ hasText: text });

  beforeAll(async () => {
    dir = await tempDir('smartlic-portal-');
    // Two days ago: the account, its pools and the first daily usage snapshot (nothing in use).
    server = await startServerProcess(dataDir(), { SMARTLIC_DEV_CLOCK: '1', SMARTLIC_CLOCK_OFFSET: '-2d' }, 0, [
      '--job-start-delay',
      '3600',
    ]);
    firstStart = server.output();
    firstUrl = server.url;
    accountId = (
      await cliJson<{ id: string }>(admin(['account', 'create', 'Acme Networks', '--domain', 'acme.example']))
    ).id;
    labId = (await cliJson<{ id: string }>(admin(['va', 'create', 'Lab', '--account', accountId]))).id;
    spareId = (await cliJson<{ id: string }>(admin(['va', 'create', 'Spare', '--account', accountId]))).id;
    await cliJson(admin(['license', 'add', '--va', labId, '--tag', TAG_A, '--count', '3', '--name', 'DNA Advantage']));
    await cliJson(admin(['license', 'add', '--va', labId, '--tag', TAG_B, '--count', '10', '--name', 'Essentials']));
    await cliJson(admin(['job', 'run']));
    await server.stop();
    // Today: the same data, the real clock.
    server = await startServerProcess(dataDir(), {}, 0, ['--job-start-delay', '3600']);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: VIEWPORT, acceptDownloads: true });
    page = await context.newPage();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await removeScreenshots();
    await server?.stop();
    await dir?.cleanup();
  });

  it('first start prints the portal URL and how to sign in', () => {
    expect(firstStart).toContain(`Portal: ${firstUrl}/`);
    expect(firstStart).toContain(`Sign in as admin with the password in ${join(dataDir(), 'admin-password')}`);
  });

  it('a wrong password is refused with a message', async () => {
    await page.goto(url(`/inventory/${labId}/licenses`));
    await poll(() => page.url()).toBe(url('/sign-in'));
    await page.getByLabel('E-mail').fill('admin');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await poll(() => page.getByRole('alert').textContent()).toBe('The e-mail or password is not right.');
    await expectAccessible(page, 'the sign-in page');
    await expectScreenshot(page, 'sign-in', 'Sign in to smartlic');
  });

  it('the owner signs in and the Licenses tab shows quantity and in use', async () => {
    const password = (await readFile(join(dataDir(), 'admin-password'), 'utf8')).trim();
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    // Back where the user was headed before signing in.
    await poll(() => page.url()).toBe(url(`/inventory/${labId}/licenses`));
    await poll(() => tab('Licenses').getAttribute('aria-selected')).toBe('true');
    await poll(async () => (await rowOf('DNA Advantage').locator('td').allTextContents()).slice(0, 5)).toEqual([
      '3',
      '0',
      '+3',
      '—',
      '—',
    ]);
    // Keyboard: arrow keys move between tabs, and the URL follows.
    await tab('Licenses').focus();
    await page.keyboard.press('ArrowRight');
    await poll(() => page.url()).toBe(url(`/inventory/${labId}/instances`));
    await poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Product Instances');
    await page.keyboard.press('ArrowLeft');
    await poll(() => page.url()).toBe(url(`/inventory/${labId}/licenses`));
  });

  it('New Token… makes a token; devices register with it and push the pool 2 short', async () => {
    await tab('General').click();
    await page.getByRole('button', { name: 'New Token…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create Registration Token' });
    await poll(() => dialog.isVisible()).toBe(true);
    // Focus starts inside the dialog.
    await poll(() => page.evaluate(() => document.activeElement?.closest('dialog') !== null)).toBe(true);
    await dialog.getByLabel('Description').fill('Lab switches');
    await dialog.getByLabel('Expire After (days, 1–365)').fill('10');
    await dialog.getByLabel('Max. Number of Uses').fill('5');
    await dialog.getByRole('button', { name: 'Create Token' }).click();
    const value = dialog.getByRole('textbox', { name: /^Token\b/ });
    await poll(() => value.inputValue()).toMatch(/^T[\w-]{64}$/);
    token = await value.inputValue();
    await expectAccessible(page, 'the New Token dialog');
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
    await poll(() => rowOf('Lab switches').locator('td').nth(4).textContent()).toBe('0 of 5');

    const server_ = server;
    for (const [name, sn, a, b] of [
      ['sw1', 'FOC0001AAA', 2, 2],
      ['sw2', 'FOC0002BBB', 3, 2],
    ] as const) {
      expect((await device(name, ['init', '--pid', 'C9300-24UX', '--sn', sn, '--hostname', name])).code).toBe(0);
      expect((await device(name, ['call-home', 'destination', server_.url, '--root', server_.rootCaPath])).code).toBe(
        0,
      );
      const registered = await device(name, ['license', 'smart', 'register', 'idtoken', token]);
      expect(registered.stderr.trim()).toBe('');
      expect((await device(name, ['use', TAG_A, String(a)])).code).toBe(0);
      expect((await device(name, ['use', TAG_B, String(b)])).code).toBe(0);
    }
    await cliJson(admin(['job', 'run'])); // today's usage snapshot

    await tab('Licenses').click();
    await poll(async () => (await rowOf('DNA Advantage').locator('td').allTextContents()).slice(0, 5)).toEqual([
      '3',
      '5',
      `${MINUS}2`,
      'Insufficient Licenses',
      '—',
    ]);
    // The forecast shows in the tab too: already short, so the date is today (the server's day).
    expect(await rowOf('DNA Advantage').locator('td').nth(5).textContent()).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    await expectAccessible(page, 'the Licenses tab');
    await expectScreenshot(page, 'licenses', 'Inventory: Lab');
  });

  it('Product Instances lists the devices, searches and pages', async () => {
    await tab('Product Instances').click();
    await poll(() => rowOf('UDI_SN:').count()).toBe(2);
    expect(await rowOf('sw1').textContent()).toContain('C9300-24UX');
    expect(await rowOf('sw2').textContent()).toContain('Out of compliance');
    await page.getByLabel('Search by name, PID or serial number').fill('FOC0002');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await poll(() => rowOf('UDI_SN:').count()).toBe(1);
    expect(await rowOf('UDI_SN:').textContent()).toContain('sw2');
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await expectAccessible(page, 'the Product Instances tab');
    await expectScreenshot(page, 'instances', 'Inventory: Lab');
  });

  it('the Event Log shows the registrations and exports them as CSV', async () => {
    await tab('Event Log').click();
    await page.getByLabel('Event type').selectOption('instance.registered');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    // The filtered page replaces the whole log: wait for the other events to go, then count.
    await poll(() => page.getByRole('row').filter({ hasText: 'token.created' }).count()).toBe(0);
    await poll(() => rowOf('instance.registered').count()).toBe(2);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    const csv = await readFile((await download.path())!, 'utf8');
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('Time,Event,Actor,Detail');
    expect(lines.slice(1).filter((l) => l.includes(',instance.registered,'))).toHaveLength(2);
    expect(csv).toContain('FOC0001AAA');
    await expectAccessible(page, 'the Event Log tab');
    await expectScreenshot(page, 'events', 'Inventory: Lab');
  });

  it('Reports draws the usage chart with the quantity, the use and the forecast date', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports' }).click();
    await poll(() => page.url()).toBe(url(`/reports/${labId}`));
    const forecast = (await (await ownerApi('GET', `/vas/${labId}/forecast`)).json()) as Forecast[];
    const essentials = forecast.find((f) => f.tag === TAG_B);
    const dna = forecast.find((f) => f.tag === TAG_A);
    expect(essentials?.shortageDate).toMatch(/^\d{4}-\d{2}-\d{2}$/); // 0 → 4 in use in two days: 10 run out
    expect(dna?.shortageDate).toMatch(/^\d{4}-\d{2}-\d{2}$/); // already short
    for (const [name, f] of [
      ['Essentials', essentials],
      ['DNA Advantage', dna],
    ] as const) {
      const section = page.getByRole('region', { name: `Usage of ${name}` });
      const chart = section.getByRole('img');
      await expect
        .poll(() => chart.getAttribute('aria-label'))
        .toContain(`projected to run short on ${f?.shortageDate}`);
      expect(await section.locator('path.quantity').getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+H/);
      expect(await section.locator('path.in-use').getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+L/);
      expect(await section.locator('text.shortage-label').textContent()).toBe(`Short on ${f?.shortageDate}`);
    }
    await expectAccessible(page, 'Reports');
    await expectScreenshot(page, 'reports', 'Reports: Lab');
  });

  it('License Reservation…: paste a request code, choose counts, download the authorization code; confirm; return', async () => {
    const rootFile = join(dir.path, 'authority-root.pem');
    await (await import('node:fs/promises')).copyFile(server.rootCaPath, rootFile);
    expect((await device('air', ['init', '--pid', 'C9300-48P', '--sn', 'FCW9999AIR'])).code).toBe(0);
    expect((await device('air', ['use', TAG_B, '1'])).code).toBe(0);
    expect((await device('air', ['license', 'smart', 'reservation', 'enable', '--root', rootFile])).code).toBe(0);
    const request = await deviceJson<{ code: string }>('air', ['license', 'smart', 'reservation', 'request']);
    expect((await runCli(admin(['reservation', 'allow', '--va', labId]))).code).toBe(0);

    await page.goto(url(`/inventory/${labId}/licenses`));
    await page.getByRole('button', { name: 'License Reservation…' }).click();
    const dialog = page.getByRole('dialog', { name: 'License Reservation' });
    await dialog.getByLabel('Reservation Request Code').fill(request.code);
    await dialog.getByLabel(/^Essentials/).fill('1');
    await dialog.getByRole('button', { name: 'Generate Authorization Code' }).click();
    const code = dialog.getByLabel('Authorization code');
    await poll(() => code.inputValue()).toMatch(/^A1-/);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      dialog.getByRole('button', { name: 'Download Authorization Code' }).click(),
    ]);
    const authorizationFile = (await download.path())!;
    expect((await readFile(authorizationFile, 'utf8')).trim()).toBe(await code.inputValue());
    await expectAccessible(page, 'the License Reservation dialog');
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
    const installed = await device('air', ['license', 'smart', 'reservation', 'install-file', authorizationFile]);
    expect(installed.stderr).toBe('');

    // Update to 2 in the portal; the device installs it and answers a confirmation code.
    await tab('Product Instances').click();
    await page.getByRole('button', { name: 'Update Reserved Licenses of C9300-48P FCW9999AIR' }).click();
    const update = page.getByRole('dialog', { name: 'Update Reserved Licenses' });
    await update.getByLabel('Reserved licenses, one per line as TAG:COUNT').fill(`${TAG_B}:2`);
    await update.getByRole('button', { name: 'Submit' }).click();
    const second = update.getByLabel('Authorization code');
    await poll(() => second.inputValue()).toMatch(/^A1-/);
    const confirmation = await deviceJson<{ code: string }>('air', [
      'license',
      'smart',
      'reservation',
      'install',
      await second.inputValue(),
    ]);
    await update.getByRole('button', { name: 'Close', exact: true }).click();
    await page.getByRole('button', { name: 'Enter Confirmation Code of C9300-48P FCW9999AIR' }).click();
    const confirm = page.getByRole('dialog', { name: 'Enter Confirmation Code' });
    await confirm.getByLabel('Reservation Confirmation Code').fill(confirmation.code);
    await confirm.getByRole('button', { name: 'Submit' }).click();
    await poll(() => confirm.getByRole('status').textContent()).toBe('The confirmation code was accepted.');
    await confirm.getByRole('button', { name: 'Close', exact: true }).click();

    // The device returns its reservation; Remove with the return code gives the licenses back.
    const returned = await deviceJson<{ code: string }>('air', ['license', 'smart', 'reservation', 'return']);
    await page.getByRole('button', { name: 'Remove C9300-48P FCW9999AIR' }).click();
    const remove = page.getByRole('dialog', { name: 'Remove Product Instance' });
    await remove.getByLabel('Reservation Return Code (reserved products only)').fill(returned.code);
    await remove.getByRole('button', { name: 'Remove' }).click();
    await poll(() => remove.getByRole('status').textContent()).toBe('The product instance was removed.');
    await remove.getByRole('button', { name: 'Close', exact: true }).click();
    await poll(() => rowOf('FCW9999AIR').count()).toBe(0);
  });

  it('Transfer… moves unused licenses to another Virtual Account', async () => {
    await page.goto(url(`/inventory/${labId}/licenses`));
    await page.getByRole('button', { name: 'Transfer…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Transfer Licenses' });
    await dialog.getByRole('combobox', { name: /^License/ }).selectOption({ label: 'Essentials' });
    await dialog.getByLabel('Quantity').fill('2');
    await dialog.getByRole('combobox', { name: /^To Virtual Account/ }).selectOption({ label: 'Spare' });
    await dialog.getByRole('button', { name: 'Transfer', exact: true }).click();
    await poll(() => dialog.getByRole('status').textContent()).toBe('Licenses transferred.');
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
    await poll(async () => (await rowOf('Essentials').locator('td').allTextContents())[0]).toBe('8');
    await page.getByRole('combobox', { name: /^Virtual Account/ }).selectOption({ label: 'Spare' });
    await poll(() => page.url()).toBe(url(`/inventory/${spareId}/licenses`));
    await poll(async () => (await rowOf('Essentials').locator('td').allTextContents()).slice(0, 3)).toEqual([
      '2',
      '0',
      '+2',
    ]);
  });

  it('every page passes the accessibility check and shows its heading in a screenshot', async () => {
    const pages: [string, string, string | RegExp][] = [
      ['general', `/inventory/${labId}/general`, 'Inventory: Lab'],
      ['conversion', '/conversion', 'Convert to Smart Licensing'],
      ['satellites', '/satellites', 'Satellites'],
      ['users', '/users', 'Users'],
      ['webhooks', '/webhooks', 'Webhooks'],
      ['spare', `/inventory/${spareId}/licenses`, 'Inventory: Spare'],
    ];
    for (const [name, path, heading] of pages) {
      await page.goto(url(path)); // a deep link, loaded afresh: the session cookie carries over
      await expectScreenshot(page, name, heading);
      await expectAccessible(page, path);
    }
    await page.goto(url('/satellites'));
    await poll(() => page.getByRole('cell', { name: 'No satellites yet.' }).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'New Satellite…' }).isVisible()).toBe(true);
  });

  it('a viewer sees the inventory, is offered no New Token…, Remove or Transfer, and the API refuses them', async () => {
    // The owner grants the role in the Users page, with a portal password; the API key is shown once.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
    await page.getByLabel('E-mail', { exact: true }).fill('viewer@acme.example');
    await page.getByRole('combobox', { name: /^Role/ }).selectOption('viewer');
    await page.getByLabel('Portal password (optional, 12 characters or more)').fill('viewer-password-1');
    await page.getByRole('button', { name: 'Grant Role' }).click();
    await poll(() => rowOf('viewer@acme.example').textContent()).toContain('viewer of Smart Account Acme Networks');
    const apiKey = await page.getByLabel("The user's API key (shown once)").inputValue();
    expect(apiKey).not.toBe('');
    const viewer = await browser.newContext({ viewport: VIEWPORT });
    try {
      // An API key signs in too.
      const byKey = await viewer.request.post(url('/api/v1/session'), { data: { apiKey } });
      expect(((await byKey.json()) as { principal: { email: string } }).principal.email).toBe('viewer@acme.example');
      await viewer.clearCookies();
      const view = await viewer.newPage();
      await view.goto(url('/sign-in'));
      await view.getByLabel('E-mail').fill('viewer@acme.example');
      await view.getByLabel('Password').fill('viewer-password-1');
      await view.getByRole('button', { name: 'Sign in', exact: true }).click();
      await view.getByRole('tab', { name: 'General' }).waitFor();
      await view.goto(url(`/inventory/${labId}/general`));
      await poll(() => view.getByRole('row').filter({ hasText: 'Lab switches' }).count()).toBe(1);
      // Both devices used the token made in the dialog.
      expect(await view.getByRole('row').filter({ hasText: 'Lab switches' }).locator('td').nth(4).textContent()).toBe(
        '2 of 5',
      );
      expect(await view.getByRole('button', { name: 'New Token…' }).count()).toBe(0);
      expect(await view.getByRole('button', { name: /^Revoke/ }).count()).toBe(0);
      await view.getByRole('tab', { name: 'Licenses' }).click();
      await poll(() => view.getByRole('row').filter({ hasText: 'DNA Advantage' }).count()).toBe(1);
      expect(await view.getByRole('button', { name: 'Transfer…' }).count()).toBe(0);
      expect(await view.getByRole('button', { name: 'License Reservation…' }).count()).toBe(0);
      await view.getByRole('tab', { name: 'Product Instances' }).click();
      await poll(() => view.getByRole('row').filter({ hasText: 'UDI_SN:' }).count()).toBe(2);
      expect(await view.getByRole('button', { name: /^(Remove|Transfer)/ }).count()).toBe(0);
      await expectAccessible(view, 'the viewer’s Product Instances tab');

      // The same session, straight to the API: refused.
      const session = await viewer.request.get(url('/api/v1/session'));
      const { csrfToken } = (await session.json()) as { csrfToken: string };
      const headers = { 'x-csrf-token': csrfToken, origin: new URL(server.url).origin };
      const newToken = await viewer.request.post(url(`/api/v1/virtual-accounts/${labId}/tokens`), {
        headers,
        data: { description: 'sneaky' },
      });
      expect(newToken.status()).toBe(403);
      const instances = (await (await ownerApi('GET', `/virtual-accounts/${labId}/instances`)).json()) as {
        id: string;
      }[];
      const someone = instances[0]!.id;
      expect((await viewer.request.delete(url(`/api/v1/instances/${someone}`), { headers })).status()).toBe(403);
      const transfer = await viewer.request.post(url(`/api/v1/instances/${someone}/transfer`), {
        headers,
        data: { toVaId: spareId },
      });
      expect(transfer.status()).toBe(403);
      // Without the CSRF token the cookie alone is refused, whatever the role.
      const bare = await viewer.request.post(url(`/api/v1/virtual-accounts/${labId}/tokens`), { data: {} });
      expect(bare.status()).toBe(403);
      expect(((await bare.json()) as { code: string }).code).toBe('CSRF_REJECTED');
    } finally {
      await viewer.close();
    }
  });

  it('the General tab copies a token to the clipboard and revokes it', async () => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(server.url).origin });
    await page.goto(url(`/inventory/${labId}/general`));
    const row = rowOf('Lab switches');
    await row.getByRole('button', { name: /^Copy token/ }).click();
    await poll(() => page.getByRole('status').first().textContent()).toBe('Token copied to the clipboard.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
    await row.getByRole('button', { name: /^Revoke token/ }).click();
    await poll(() => row.locator('td').nth(6).textContent()).toBe('REVOKED');
    expect(await row.getByRole('button', { name: /^Revoke token/ }).count()).toBe(0);
    const late = await device('sw3', ['init', '--pid', 'C9300-24UX', '--sn', 'FOC0003CCC']);
    expect(late.code).toBe(0);
    await device('sw3', ['call-home', 'destination', server.url, '--root', server.rootCaPath]);
    const refused = await device('sw3', ['license', 'smart', 'register', 'idtoken', token]);
    expect(refused.stderr).toContain('The ID token has been revoked.');
  });

  it('signing out ends the session; deep links then ask to sign in', async () => {
    await page.goto(url(`/inventory/${labId}/general`));
    await page.getByRole('button', { name: 'Sign out' }).click();
    await poll(() => page.url()).toBe(url('/sign-in'));
    await page.goto(url(`/inventory/${labId}/events`));
    await poll(() => page.url()).toBe(url('/sign-in'));
    expect((await context.request.get(url('/api/v1/session'))).status()).toBe(401);
  });

  it('sign-in attempts are rate-limited, and the page says so', async () => {
    let status = 0;
    for (let i = 0; i < 60 && status !== 429; i++) {
      status = (
        await context.request.post(url('/api/v1/session'), { data: { email: 'admin', password: `guess-${i}` } })
      ).status();
    }
    expect(status).toBe(429);
    await page.getByLabel('E-mail').fill('admin');
    await page.getByLabel('Password').fill('one-more-guess');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await poll(() => page.getByRole('alert').textContent()).not.toBe('The e-mail or password is not right.');
    expect(await page.getByRole('alert').textContent()).toMatch(/\w+.*\./);
  });
});
