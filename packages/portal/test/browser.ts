import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';

/** Debian's Chromium, which the browser suites drive (`.ci/run` installs it). */
export const CHROMIUM = process.env.SMARTLIC_CHROMIUM ?? '/usr/bin/chromium';

/** The viewport of every page: screenshots are asserted to have exactly this size. */
export const VIEWPORT = { width: 1280, height: 900 } as const;

let toldMissing = false;

/**
 * `describe` for a browser suite (tests may take two minutes): without Chromium it skips with one visible line, except under
 * `CI=true`, where a missing browser fails the run.
 */
export function describeInBrowser(name: string, body: () => void): void {
  if (existsSync(CHROMIUM)) {
    // Each test walks several pages and runs CLI commands: room for a loaded machine.
    describe(name, { timeout: 120_000 }, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs Chromium', () => {
        throw new Error(
          `${CHROMIUM} is missing: install it (apt-get install -y chromium); CI never skips browser tests`,
        );
      });
    });
    return;
  }
  if (!toldMissing) {
    toldMissing = true;
    console.warn(`Browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium).`);
  }
  describe.skip(name, body);
}

/** Starts headless Chromium (playwright-core gives each launch a fresh temporary profile). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

const axeSource = (createRequire(import.meta.url)('axe-core') as { source: string }).source;

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/**
 * Runs axe-core in the page (evaluated through the DevTools protocol, so the page's CSP, which
 * forbids inline scripts, stays on) and fails on any serious or critical violation.
 */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document) => Promise<{ violations: unknown[] }> } }).axe;
    return (await axe.run(document)).violations;
  });
  const serious = (violations as AxeViolation[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')})`);
  expect(serious, `accessibility of ${what}`).toEqual([]);
}

/** `expect.poll` with room for a loaded machine (the page answers within a few seconds). */
export function poll<T>(read: () => T | Promise<T>, message?: string) {
  return expect.poll(read, { timeout: 15_000, interval: 100, ...(message ? { message } : {}) });
}

/** Width and height of a PNG, from its IHDR chunk. */
export function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

let shotDir: string | null = null;

/**
 * Where the screenshots go: `SMARTLIC_SCREENSHOTS` (kept, e.g. for a CI artifact) or a temporary
 * directory that {@link removeScreenshots} deletes.
 */
async function screenshotDir(): Promise<string> {
  if (shotDir) return shotDir;
  const kept = process.env.SMARTLIC_SCREENSHOTS;
  if (kept) await mkdir(kept, { recursive: true });
  shotDir = kept || (await mkdtemp(join(tmpdir(), 'smartlic-portal-shots-')));
  return shotDir;
}

/** Deletes the temporary screenshots (not those asked for with `SMARTLIC_SCREENSHOTS`). */
export async function removeScreenshots(): Promise<void> {
  if (shotDir && !process.env.SMARTLIC_SCREENSHOTS) await rm(shotDir, { recursive: true, force: true });
  shotDir = null;
}

/**
 * A screenshot of the page, kept in a temporary directory: it must have the viewport's size, and
 * the page's main heading must show in it — the heading's region is captured once as it is and
 * once with the heading hidden, and the two must differ (blank, covered or unstyled-away text fails).
 */
export async function expectScreenshot(page: Page, name: string, heading: string | RegExp): Promise<string> {
  const h1 = page.getByRole('heading', { level: 1, name: heading });
  await poll(() => h1.isVisible(), `heading ${heading} of ${name}`).toBe(true);
  const png = await page.screenshot();
  expect(png.length).toBeGreaterThan(5_000);
  expect(pngSize(png)).toEqual(VIEWPORT);
  const box = await h1.boundingBox();
  expect(box, `heading of ${name} on screen`).not.toBeNull();
  const clip = { x: box!.x, y: box!.y, width: Math.min(box!.width, VIEWPORT.width - box!.x), height: box!.height };
  expect(clip.y + clip.height).toBeLessThanOrEqual(VIEWPORT.height);
  const shown = await page.screenshot({ clip });
  const element = await h1.elementHandle();
  await element!.evaluate((el) => {
    (el as HTMLElement).style.visibility = 'hidden';
  });
  const hidden = await page.screenshot({ clip });
  await element!.evaluate((el) => {
    (el as HTMLElement).style.visibility = '';
  });
  await element!.dispose();
  expect(shown.equals(hidden), `the heading of ${name} shows in the screenshot`).toBe(false);
  const file = join(await screenshotDir(), `${name}.png`);
  await writeFile(file, png);
  return file;
}
