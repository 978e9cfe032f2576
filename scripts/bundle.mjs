// Bundles compiled packages (their `dist/`, from `tsc -b`) into a few ESM files each: one
// file per entry point and the chunks entries share. Each module Node loads costs memory of
// its own and time to resolve, read and compile:
// - the protocol and the agent, into `dist/bundle/`: the agent must stay light inside a product
//   (ADR 0005): one bundled module instead of seventy saves about 6 MB of resident memory. The
//   agent imports the protocol's bundle, so a process holds one copy of each class
//   (`SmartlicError` is the same class for the agent, CLI and server).
// - the server, with Kysely inside (its ~260 modules are the server's alone), into
//   `dist/server-bundle.js` beside the compiled files (its `new URL('../…', import.meta.url)`
//   paths stay right), and the CLI into `dist/bundle/`: `smartlic server` loads ~130 ES modules
//   (95 of them zod's) instead of ~640 before it listens (ADR 0022).
// Other dependencies (and peer dependencies, which only `@smartlic/agent/testing` needs) stay
// external.
//
//   node scripts/bundle.mjs        (run by `npm run build`, `npm test` and `npm start`)

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

/**
 * Packages to bundle: their entry points (relative to the package's `dist/`), where the files
 * go (`out`, default `bundle`, relative to `dist/`), and dependencies bundled in (`inline`).
 */
const PACKAGES = [
  { dir: 'packages/protocol', entries: { index: 'index.js', core: 'core.js', fs: 'fs.js' } },
  { dir: 'packages/agent', entries: { index: 'index.js', testing: 'testing/index.js' } },
  {
    dir: 'packages/server',
    entries: { 'server-bundle': 'index.js' },
    out: '.',
    chunk: 'server-bundle',
    inline: ['kysely'],
  },
  { dir: 'packages/cli', entries: { main: 'main.js' } },
];

for (const { dir, entries, out = 'bundle', chunk = 'chunk', inline = [] } of PACKAGES) {
  const root = fileURLToPath(new URL(`../${dir}/`, import.meta.url));
  const manifest = JSON.parse(await readFile(`${root}package.json`, 'utf8'));
  const dependencies = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }).filter(
    (name) => !inline.includes(name),
  );
  const isExternal = (id) =>
    id.startsWith('node:') || dependencies.some((name) => id === name || id.startsWith(`${name}/`));
  await build({
    input: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, `${root}dist/${file}`])),
    platform: 'node',
    external: isExternal,
    logLevel: 'warn',
    output: {
      dir: `${root}dist/${out}`,
      format: 'esm',
      sourcemap: true,
      entryFileNames: '[name].js',
      chunkFileNames: `${chunk}-[name].js`,
    },
  });
}
