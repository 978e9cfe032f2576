import { existsSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Security headers of every portal response (no inline script, no framing, no sniffing). */
export const PORTAL_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
} as const;

/** What `/` answers when `packages/portal/dist` has no index.html. */
export const PORTAL_NOT_BUILT =
  'The portal has not been built: run npm run build, then start the server again. The REST API under /api/v1 works without it.';

/** URL prefixes that are never the portal: an unknown path under them is the JSON 404. */
const NOT_PORTAL = [/^\/api(\/|$)/, /^\/SmartTransport/i, /^\/metrics$/, /^\/healthz$/, /^\/readyz$/];

/**
 * Serves the built portal (`dir`, Vite's `dist`) for GET/HEAD requests no route matched: its
 * files (under `assets/`, hashed names: cached for a year, immutable; others no-cache), and
 * `index.html` (no-cache) for every other path, so that a deep link such as
 * `/inventory/<vaId>/licenses` opens the portal on that page. Paths of the API, the device
 * endpoint and the operations routes stay the JSON 404. Install it before the error handlers
 * and pass the returned fallback to them.
 */
export async function installPortal(
  app: FastifyInstance,
  dir: string,
): Promise<(request: FastifyRequest, reply: FastifyReply) => boolean> {
  const root = resolve(dir);
  await app.register(fastifyStatic, { root, serve: false, dotfiles: 'deny', index: false });
  return (request, reply) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    const path = (request.url.split('?')[0] ?? '/').replace(/\/{2,}/g, '/');
    if (NOT_PORTAL.some((re) => re.test(path))) return false;
    reply.headers(PORTAL_HEADERS);
    if (!existsSync(join(root, 'index.html'))) {
      void reply.code(503).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(PORTAL_NOT_BUILT);
      return true;
    }
    const file = fileUnder(root, path);
    if (file) {
      const hashed = file.startsWith(`assets${sep}`) || file.startsWith('assets/');
      void reply.sendFile(file, root, hashed ? { maxAge: '365d', immutable: true } : { cacheControl: false });
      if (!hashed) reply.header('cache-control', 'no-cache');
      return true;
    }
    // A missing file with an extension is a 404 (a stale asset), not the portal's page.
    if (extname(path) !== '' && path !== '/') {
      void reply.code(404).type('text/plain; charset=utf-8').send('No such file.');
      return true;
    }
    void reply.header('cache-control', 'no-cache').sendFile('index.html', root, { cacheControl: false });
    return true;
  };
}

/** The file of `urlPath` inside `root` (relative), if it names an existing file there; never outside it. */
function fileUnder(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded === '/' || decoded.endsWith('/')) return undefined;
  const segments = decoded.split(/[/\\]/).filter((s) => s !== '');
  if (segments.some((s) => s === '..' || s.startsWith('.'))) return undefined;
  const full = resolve(root, ...segments);
  if (!full.startsWith(root + sep)) return undefined;
  try {
    if (!statSync(full).isFile()) return undefined;
  } catch {
    return undefined;
  }
  return segments.join('/');
}
