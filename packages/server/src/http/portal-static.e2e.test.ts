import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../test-support/temp-dir.js';
import { startTestApp, type TestApp } from '../test-support/test-app.js';
import { SERVER_VERSION } from '../version.js';
import { PORTAL_NOT_BUILT } from './portal-static.js';

const INDEX = '<!doctype html><title>smartlic</title><script type="module" src="/assets/index-abc123.js"></script>';
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'";

/** A GET with the path sent as written (fetch would resolve dot segments before sending). */
function rawGet(base: string, path: string): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET' }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function get(url: string, method = 'GET') {
  const response = await fetch(url, { method });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe('the built portal at /', () => {
  let t: TestApp;
  const dist = makeTempDir();
  const secretDir = makeTempDir();

  beforeAll(async () => {
    mkdirSync(join(dist.path, 'assets'));
    writeFileSync(join(dist.path, 'index.html'), INDEX);
    writeFileSync(join(dist.path, 'assets', 'index-abc123.js'), 'console.log("portal");');
    writeFileSync(join(dist.path, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(join(dist.path, '.env'), 'SECRET=1');
    writeFileSync(join(secretDir.path, 'secret.txt'), 'not for the web');
    t = await startTestApp({ portalDir: dist.path });
  });
  afterAll(async () => {
    await t.dispose();
    dist.remove();
    secretDir.remove();
  });

  it('serves index.html at / and for every deep link, no-cache, with the security headers', async () => {
    for (const path of [
      '/',
      '/sign-in',
      '/inventory/va-1/general',
      '/inventory/va-1/licenses',
      '/inventory/va-1/instances',
      '/inventory/va-1/events',
      '/reports/va-1',
      '/conversion',
      '/satellites',
      '/users',
      '/webhooks',
      '/sync',
      '/sync?x=1',
    ]) {
      const answer = await get(`${t.url}${path}`);
      expect(answer.status, path).toBe(200);
      expect(answer.text).toBe(INDEX);
      expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
      expect(answer.headers.get('cache-control')).toBe('no-cache');
      expect(answer.headers.get('content-security-policy')).toBe(CSP);
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect((await get(`${t.url}/inventory/va-1/general`, 'HEAD')).status).toBe(200);
  });

  it('serves hashed assets for a year (immutable) and other files no-cache', async () => {
    const asset = await get(`${t.url}/assets/index-abc123.js`);
    expect(asset.status).toBe(200);
    expect(asset.text).toBe('console.log("portal");');
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-security-policy')).toBe(CSP);
    const icon = await get(`${t.url}/favicon.svg`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('cache-control')).toBe('no-cache');
    expect((await get(`${t.url}/assets/gone-123.js`)).status).toBe(404);
  });

  it('tells the portal the server mode and version without a sign-in (GET /api/v1/server)', async () => {
    const answer = await get(`${t.url}/api/v1/server`);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ mode: 'authority', version: SERVER_VERSION });
  });

  it('keeps the API, device and operations paths JSON, and unknown API paths the JSON 404', async () => {
    const unknown = await get(`${t.url}/api/v1/nothing-here`);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toMatchObject({ code: 'NOT_FOUND' });
    expect((await get(`${t.url}/SmartTransport/unknown`)).status).toBe(404);
    expect(JSON.parse((await get(`${t.url}/api/v1/health`)).text)).toMatchObject({ status: 'ok' });
    expect((await get(`${t.url}/healthz`)).status).toBe(200);
    const post = await fetch(`${t.url}/inventory/x`, { method: 'POST' });
    expect(post.status).toBe(404);
  });

  it('never serves a file outside the folder, nor a dotfile', async () => {
    const rel = secretDir.path.split('/').length;
    const up = '/..'.repeat(rel + 2);
    const served: number[] = [];
    for (const path of [
      `${up}${secretDir.path}/secret.txt`,
      `/%2e%2e/%2e%2e${secretDir.path}/secret.txt`,
      `/assets/..%2f..%2f..${secretDir.path}/secret.txt`,
      '/..%5c..%5cetc%5cpasswd',
      '/.env',
      '/assets/%00index-abc123.js',
    ]) {
      const answer = await rawGet(t.url, path);
      served.push(answer.status);
      expect(answer.text, path).not.toContain('not for the web');
      expect(answer.text, path).not.toContain('SECRET');
    }
    // Each was answered (the portal page, a 404 or a 400), none with a file from outside.
    expect(served.every((s) => [200, 400, 403, 404].includes(s))).toBe(true);
    expect((await rawGet(t.url, '/assets/../assets/index-abc123.js')).text).not.toContain('console.log');
  });
});

describe('the portal not built', () => {
  let t: TestApp;
  const empty = makeTempDir();
  beforeAll(async () => {
    t = await startTestApp({ portalDir: empty.path });
  });
  afterAll(async () => {
    await t.dispose();
    empty.remove();
  });

  it('answers / and deep links with one sentence saying to build it', async () => {
    for (const path of ['/', '/inventory/va-1/general']) {
      const answer = await get(`${t.url}${path}`);
      expect(answer.status).toBe(503);
      expect(answer.text).toBe(PORTAL_NOT_BUILT);
    }
    expect(PORTAL_NOT_BUILT).toContain('npm run build');
  });
});
