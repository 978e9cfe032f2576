// Bundles the compiled protocol and agent (their `dist/`, from `tsc -b`) into a few ESM files
// each, under `dist/bundle/`: one file per entry point and the chunks entries share. Each
// module Node loads costs memory of its own, and the agent must stay light inside a product
// (ADR 0005): one bundled module instead of seventy saves about 6 MB of resident memory.
// Dependencies (and peer dependencies, which only `@smartlic/agent/testing` needs) stay external, and the agent imports the protocol's bundle, so a process holds
// one copy of each class (`SmartlicError` is the same class for the agent, CLI and server).
//
//   node scripts/bundle.mjs        (run by `npm run build`, `npm test` and `npm start`)

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

/** Packages to bundle, and their entry points (relative to the package's `dist/`). */
const PACKAGES = [
  { dir: 'packages/protocol', entries: { index: 'index.js', core: 'core.js', fs: 'fs.js' } },
  { dir: 'packages/agent', entries: { index: 'index.js', testing: 'testing/index.js' } },
];

for (const { dir, entries } of PACKAGES) {
  const root = fileURLToPath(new URL(`../${dir}/`, import.meta.url));
  const manifest = JSON.parse(await readFile(`${root}package.json`, 'utf8'));
  const dependencies = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies });
  const isExternal = (id) =>
    id.startsWith('node:') || dependencies.some((name) => id === name || id.startsWith(`${name}/`));
  await build({
    input: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, `${root}dist/${file}`])),
    platform: 'node',
    external: isExternal,
    logLevel: 'warn',
    output: {
      dir: `${root}dist/bundle`,
      format: 'esm',
      sourcemap: true,
      entryFileNames: '[name].js',
      chunkFileNames: 'chunk-[name].js',
    },
  });
}
