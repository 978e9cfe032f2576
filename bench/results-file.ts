import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS = join(ROOT, 'bench/RESULTS.md');

/**
 * Replaces (or appends) the section of bench/RESULTS.md that starts with `heading`, leaving
 * the other sections as they are, then lets Biome align its tables as `npm run lint` wants.
 */
export async function writeResultsSection(heading: string, section: string): Promise<void> {
  const current = await readFile(RESULTS, 'utf8').catch(
    () => '# Benchmark results\n\nEach section is written by its script; rerun the script to update it.\n',
  );
  const start = current.indexOf(heading);
  if (start < 0) {
    await writeFile(RESULTS, `${current.trimEnd()}\n\n${section}`);
  } else {
    const next = current.indexOf('\n## ', start + heading.length);
    const rest = next < 0 ? '' : current.slice(next + 1);
    await writeFile(RESULTS, `${current.slice(0, start)}${section}${rest ? `\n${rest}` : ''}`);
  }
  await new Promise<void>((resolve) => {
    execFile(join(ROOT, 'node_modules/.bin/biome'), ['format', '--write', RESULTS], () => resolve());
  });
}
