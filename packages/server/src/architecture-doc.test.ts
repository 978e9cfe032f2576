import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
const architecture = readFileSync(root('docs/architecture.md'), 'utf8');

describe('docs/architecture.md', () => {
  it('links every decision record of docs/adr/', () => {
    const adrs = readdirSync(root('docs/adr')).filter((f) => /^\d{4}-.+\.md$/.test(f));
    expect(adrs.length).toBeGreaterThanOrEqual(11);
    for (const adr of adrs) expect(architecture, adr).toContain(`(adr/${adr})`);
  });

  it('describes every server feature folder', () => {
    const features = readdirSync(root('packages/server/src/features'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    for (const feature of features) expect(architecture, feature).toMatch(new RegExp(`\\| \`${feature}\` +\\|`));
  });
});
