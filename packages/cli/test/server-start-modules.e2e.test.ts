import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, tempDir } from './harness.js';

const PRELOAD = fileURLToPath(new URL('./fixtures/loaded-modules.cjs', import.meta.url));
const ES_PRELOAD = fileURLToPath(new URL('./fixtures/loaded-es-modules.mjs', import.meta.url));

/** What a SQLite server's start-up must not load: they cost a third of it and it needs none of them. */
const LAZY = {
  '@peculiar/x509 (only to create the PKI or the TLS certificate)': /node_modules\/@peculiar\/x509\//,
  'pg (only for PostgreSQL)': /node_modules\/pg\//,
  "fastify's Ajv compiler (no route declares a fastify schema)": /node_modules\/@fastify\/ajv-compiler\//,
};

describe('server start-up loads only what it needs', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(async () => {
    await dir.cleanup();
  });

  /** The CommonJS modules (files) a start loaded, and its ES modules (URLs). */
  async function loadedBy(start: number): Promise<string> {
    const list = join(dir.path, `modules-${start}.txt`);
    const esList = join(dir.path, `es-modules-${start}.txt`);
    const server = await startServerProcess(join(dir.path, 'data'), {
      NODE_OPTIONS: `--require ${PRELOAD} --import ${ES_PRELOAD}`,
      SMARTLIC_LOADED_MODULES_FILE: list,
      SMARTLIC_LOADED_ES_MODULES_FILE: esList,
    });
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    await server.stop();
    return `${readFileSync(list, 'utf8')}\n${readFileSync(esList, 'utf8')}`;
  }

  it('loads @peculiar/x509 to create the PKI on the first start, and not on the next; never pg or Ajv', async () => {
    const first = await loadedBy(1);
    expect(first).toMatch(LAZY['@peculiar/x509 (only to create the PKI or the TLS certificate)']);
    const second = await loadedBy(2);
    expect(second).toMatch(/node_modules\/fastify\//); // the list is real
    for (const [what, pattern] of Object.entries(LAZY)) {
      expect(pattern.test(second), `${what} was loaded`).toBe(false);
      if (!what.startsWith('@peculiar')) expect(pattern.test(first), `${what} was loaded`).toBe(false);
    }
  });

  it('loads the bundled server and CLI, with Kysely inside, not their hundreds of compiled modules (ADR 0022)', async () => {
    const loaded = (await loadedBy(3)).split('\n');
    expect(loaded).toContainEqual(expect.stringMatching(/packages\/server\/dist\/server-bundle\.js$/));
    expect(loaded).toContainEqual(expect.stringMatching(/packages\/cli\/dist\/bundle\/main\.js$/));
    const compiled = loaded.filter((url) => /packages\/(server|cli)\/dist\//.test(url));
    expect(compiled.length, compiled.join('\n')).toBeLessThan(10);
    expect(loaded.filter((url) => /node_modules\/kysely\//.test(url))).toEqual([]);
  });
});
