// Adds to package-lock.json the optional platform packages of @biomejs/biome that npm leaves out
// when the registry it uses serves only this platform's binaries; without them `npm ci` refuses
// the lockfile ("Missing: @biomejs/cli-… from lock file"). See docs/adr/0004-lockfile-platform-entries.md.
// Run after any `npm install` that rewrites the lockfile:  node scripts/lockfile-platforms.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.argv[2] ?? new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const base = lock.packages['node_modules/@biomejs/biome'];
const platforms = {
  'cli-android-arm64': { os: 'android', cpu: 'arm64' },
  'cli-android-x64': { os: 'android', cpu: 'x64' },
  'cli-darwin-arm64': { os: 'darwin', cpu: 'arm64' },
  'cli-darwin-x64': { os: 'darwin', cpu: 'x64' },
  'cli-linux-arm64-musl': { os: 'linux', cpu: 'arm64', libc: 'musl' },
  'cli-linux-x64-musl': { os: 'linux', cpu: 'x64', libc: 'musl' },
  'cli-win32-arm64': { os: 'win32', cpu: 'arm64' },
  'cli-win32-x64': { os: 'win32', cpu: 'x64' },
};
const entries = Object.entries(lock.packages);
const out = {};
for (const [k, v] of entries) {
  out[k] = v;
  if (k === 'node_modules/@biomejs/biome') {
    for (const [name, p] of Object.entries(platforms)) {
      const key = `node_modules/@biomejs/${name}`;
      if (lock.packages[key]) continue;
      out[key] = {
        version: base.version,
        cpu: [p.cpu],
        dev: true,
        ...(p.libc ? { libc: [p.libc] } : {}),
        license: 'MIT OR Apache-2.0',
        optional: true,
        os: [p.os],
        engines: { node: '>=14.21.3' },
      };
    }
  }
}
lock.packages = out;
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
