import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DOCS = join(ROOT, 'docs/sdk');

interface SdkDocs {
  writeDocs(dir: string): Promise<{ files: string[]; undocumented: string[] }>;
}

describe('docs/sdk: the typed API reference generated from the JSDoc', () => {
  let dir: string;
  let result: { files: string[]; undocumented: string[] };

  beforeAll(async () => {
    const script = (await import(join(ROOT, 'scripts/sdk-docs.mjs'))) as SdkDocs;
    dir = await mkdtemp(join(tmpdir(), 'sdk-docs-'));
    result = await script.writeDocs(dir);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is up to date: regenerating gives docs/sdk/ exactly (run `npm run docs:sdk` after changing an export)', async () => {
    expect((await readdir(DOCS)).sort()).toEqual([...result.files].sort());
    for (const file of result.files) {
      const fresh = await readFile(join(dir, file), 'utf8');
      const committed = await readFile(join(DOCS, file), 'utf8');
      expect(committed, `docs/sdk/${file} is stale: run \`npm run docs:sdk\``).toBe(fresh);
    }
  });

  it('documents every export of the agent and the protocol with JSDoc', () => {
    expect(result.undocumented).toEqual([]);
  });

  it('holds the signatures and docs a vendor looks for', async () => {
    const agent = await readFile(join(dir, 'agent.md'), 'utf8');
    expect(agent).toContain('- `register(idToken: string, options?: { force?: boolean; }): Promise<Outcome>`');
    expect(agent).toContain('- `createEnforcer(options?: AgentEnforcerOptions): Enforcer`');
    expect(agent).toMatch(/### CpsLimiter\n\n```ts\nclass CpsLimiter\n```\n\nThe CUSP calls-per-second limiter/);
    expect(agent).toContain('### ManualClock'); // re-exported from the protocol
  });
});
