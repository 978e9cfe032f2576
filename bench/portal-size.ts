/**
 * The portal's bundle size: every file of packages/portal/dist, raw and gzipped (node:zlib at
 * level 9, as a server or CDN would send it), written to bench/RESULTS.md. Run after
 * `npm run build` (`npm run bench:portal-size` builds first). The sizes do not depend on load.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { writeResultsSection } from './results-file.js';

const DIST = fileURLToPath(new URL('../../packages/portal/dist/', import.meta.url));

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : Promise.resolve([join(dir, e.name)]))),
  );
  return nested.flat().sort();
}

const kb = (bytes: number) => (bytes / 1024).toFixed(1);

const rows: { file: string; raw: number; gzip: number }[] = [];
for (const file of await filesUnder(DIST)) {
  const bytes = await readFile(file);
  // Hashed names change with every edit: the table names the kind of file, not its hash.
  const name = relative(DIST, file).replace(/-[\w-]{8}\.(js|css)$/, '.$1');
  rows.push({ file: name, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length });
}
if (rows.length === 0) throw new Error(`${DIST} is empty: run npm run build first`);
const total = rows.reduce((t, r) => ({ raw: t.raw + r.raw, gzip: t.gzip + r.gzip }), { raw: 0, gzip: 0 });

const section = `## bench/portal-size.ts

The portal as \`npm run build\` leaves it in \`packages/portal/dist\` (React 19, Vite 8, no other
runtime library), each file gzipped with node:zlib at level 9. ${new Date().toISOString().slice(0, 10)}.

| file | bytes | gzip bytes | gzip KiB |
| ---- | ----- | ---------- | -------- |
${rows.map((r) => `| \`${r.file}\` | ${r.raw} | ${r.gzip} | ${kb(r.gzip)} |`).join('\n')}
| **total** | ${total.raw} | ${total.gzip} | **${kb(total.gzip)}** |

Nearly all of it is React and React DOM; the portal's own code is the rest.
`;

console.log(section);
if (process.env.BENCH_WRITE !== '0') await writeResultsSection('## bench/portal-size.ts', section);
