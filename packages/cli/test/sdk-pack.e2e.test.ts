import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliJson, type ServerProcess, startServerProcess, tempDir } from './harness.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TAG = 'regid.2026-01.com.example.Widget_1.0';
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface PackedFile {
  path: string;
}
interface Packed {
  name: string;
  filename: string;
  files: PackedFile[];
}

/** The product a vendor writes: registers with a token and prints the status as JSON. */
const PRODUCT = `
import { readFileSync } from 'node:fs';
import { Agent, formatStatus } from '@smartlic/agent';
const [url, rootPath, token, stateDir, tag] = process.argv.slice(2);
const agent = await Agent.init({ pid: 'WIDGET-1', sn: 'SN-PACK-1', hostname: 'widget' }, { stateDir });
await agent.setDestination(url, { authorityRootPem: readFileSync(rootPath, 'utf8') });
await agent.use(tag, 1);
const outcome = await agent.register(token);
const status = agent.status();
await agent.close();
console.log(JSON.stringify({ ok: outcome.ok, registration: status.registration.status, authorization: status.authorization.status, text: formatStatus(status) }));
`;

/**
 * A seed lockfile for the empty project naming the registry dependencies of the SDK at the
 * versions and integrities of the workspace's lockfile, so `npm install --offline` takes them from
 * the npm cache that `npm ci` filled (a bare `--offline` install would need the registry's
 * package documents, which the cache does not hold).
 */
async function seedLockfile(names: string[]): Promise<string> {
  // The registry npm is configured with here, as the cache knows its tarballs by that address.
  const registry = (await run(NPM, ['config', 'get', 'registry'], { env: outsideEnv() })).stdout
    .trim()
    .replace(/\/+$/, '');
  const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version: string; integrity: string; license?: string }>;
  };
  const packages: Record<string, unknown> = { '': { name: 'sdk-consumer' } };
  for (const name of names) {
    const entry = lock.packages[`node_modules/${name}`];
    if (!entry) throw new Error(`${name} is not in the workspace lockfile`);
    const base = name.split('/').pop();
    packages[`node_modules/${name}`] = {
      version: entry.version,
      resolved: `${registry}/${name}/-/${base}-${entry.version}.tgz`,
      integrity: entry.integrity,
      ...(entry.license ? { license: entry.license } : {}),
    };
  }
  return JSON.stringify({ name: 'sdk-consumer', lockfileVersion: 3, requires: true, packages }, null, 2);
}

/**
 * The environment without what `npm test` / `npx` pass down about the workspace (its prefix, its
 * package and script), so the install acts as in a vendor's own project.
 */
function outsideEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^npm_(config_local_prefix|package_|lifecycle_)/i.test(name)),
  );
}

describe('the SDK as npm packages, installed into an empty project outside the workspace', () => {
  let packs: { path: string; cleanup: () => Promise<void> };
  let app: { path: string; cleanup: () => Promise<void> };
  let data: { path: string; cleanup: () => Promise<void> };
  let server: ServerProcess;
  let packed: Packed[] = [];
  let installError: string | undefined;

  beforeAll(async () => {
    [packs, app, data] = await Promise.all([tempDir('sdk-packs-'), tempDir('sdk-app-'), tempDir('sdk-data-')]);
    const { stdout } = await run(
      NPM,
      ['pack', '--json', '--pack-destination', packs.path, '-w', 'packages/protocol', '-w', 'packages/agent'],
      { cwd: ROOT },
    );
    packed = JSON.parse(stdout) as Packed[];
    // The runtime dependencies of the packed manifests, from the registry (not the two SDK packages).
    const registryDeps = new Set<string>();
    for (const dir of ['packages/protocol', 'packages/agent']) {
      const manifest = JSON.parse(await readFile(join(ROOT, dir, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
      };
      for (const name of Object.keys(manifest.dependencies ?? {}))
        if (!name.startsWith('@smartlic/')) registryDeps.add(name);
    }
    await writeFile(join(app.path, 'package.json'), JSON.stringify({ name: 'sdk-consumer', private: true }));
    await writeFile(join(app.path, 'package-lock.json'), await seedLockfile([...registryDeps]));
    await writeFile(join(app.path, 'product.mjs'), PRODUCT);
    try {
      await run(
        NPM,
        [
          'install',
          '--offline',
          '--no-audit',
          '--no-fund',
          '--ignore-scripts',
          ...packed.map((p) => join(packs.path, p.filename)),
        ],
        { cwd: app.path, env: outsideEnv() },
      );
    } catch (error) {
      installError = String((error as { stderr?: string }).stderr ?? error);
    }
    server = await startServerProcess(join(data.path, 'server'));
  });

  afterAll(async () => {
    await server?.stop();
    await Promise.all([packs?.cleanup(), app?.cleanup(), data?.cleanup()]);
  });

  it('packs dist, README, LICENSE and package.json only: no sources, tests, vectors or build info', () => {
    expect(packed.map((p) => p.name).sort()).toEqual(['@smartlic/agent', '@smartlic/protocol']);
    for (const p of packed) {
      const files = p.files.map((f) => f.path);
      expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/bundle/index.js']));
      const stray = files.filter(
        (f) =>
          !['package.json', 'README.md', 'LICENSE'].includes(f) &&
          !(f.startsWith('dist/') && /\.(js|d\.ts|js\.map)$/.test(f)),
      );
      expect(stray, `${p.name}: files outside dist`).toEqual([]);
      expect(files.filter((f) => /\.test\.|vectors|\.tsbuildinfo|\.ts\.map$/.test(f))).toEqual([]);
    }
  });

  it('ships source maps that resolve: every map it names is packed, with the sources inside', async () => {
    for (const p of packed) {
      const into = join(packs.path, p.name.replace('/', '-'));
      await mkdir(into);
      await run('tar', ['-xzf', join(packs.path, p.filename), '-C', into]);
      const root = join(into, 'package');
      let maps = 0;
      for (const file of p.files.map((f) => f.path).filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'))) {
        const text = await readFile(join(root, file), 'utf8');
        const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)?.[1];
        if (!url) continue;
        maps++;
        const map = JSON.parse(await readFile(join(root, file, '..', url), 'utf8')) as {
          sources: string[];
          sourcesContent?: (string | null)[];
        };
        expect(map.sourcesContent?.length, `${p.name} ${file}: sources inlined`).toBe(map.sources.length);
        expect(map.sourcesContent?.every((s) => typeof s === 'string')).toBe(true);
      }
      expect(maps).toBeGreaterThan(0);
    }
  });

  it('installs offline and registers a device against a running server: AUTHORIZED', async (ctx) => {
    if (installError?.includes('ENOTCACHED')) {
      const why = installError.split('\n').find((line) => line.includes('request to')) ?? 'ENOTCACHED';
      console.warn(
        `sdk-pack: skipped, a dependency of the SDK is not in the npm cache: ${why.replace(/^npm error /, '')}`,
      );
      ctx.skip();
    }
    expect(installError).toBeUndefined();
    const installed = JSON.parse(await readFile(join(app.path, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, unknown>;
    };
    // Only the SDK and its runtime dependency; the x509 stack is an optional peer (testing only).
    expect(Object.keys(installed.packages).sort()).toEqual([
      '',
      'node_modules/@smartlic/agent',
      'node_modules/@smartlic/protocol',
      'node_modules/zod',
    ]);

    const admin = (args: string[]) => ['admin', '--server', server.url, '--api-key', server.apiKey, ...args];
    const account = await cliJson<{ id: string }>(admin(['account', 'create', 'Widgets', '--domain', 'widgets.test']));
    const va = await cliJson<{ id: string }>(admin(['va', 'create', 'Lab', '--account', account.id]));
    await cliJson(admin(['license', 'add', '--va', va.id, '--tag', TAG, '--count', '5', '--name', 'Widget']));
    const { token } = await cliJson<{ token: string }>(admin(['token', 'create', '--va', va.id]));

    const { stdout } = await run(
      process.execPath,
      ['product.mjs', server.url, server.rootCaPath, token, join(app.path, 'state'), TAG],
      { cwd: app.path, env: outsideEnv() },
    );
    const result = JSON.parse(stdout) as { ok: boolean; registration: string; authorization: string; text: string };
    expect(result).toMatchObject({ ok: true, registration: 'REGISTERED', authorization: 'AUTHORIZED' });
    expect(result.text).toContain('Status: AUTHORIZED');
  });
});
