import { chmodSync, copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ensureSatelliteKey,
  installSatelliteCertificate,
  issueSatelliteCa,
  loadOrCreatePki,
  satelliteCaIssuer,
  startServer,
} from '@smartlic/server';
import { cliJson } from './harness.js';

/** An authority's data directory with its root and signing CA (no server running); returns its root PEM and path. */
export async function makeAuthorityPki(dataDir: string): Promise<{ rootCaPem: string; rootCaPath: string }> {
  const pki = await loadOrCreatePki({ dataDir, clock: { now: () => Date.now() } });
  return { rootCaPem: pki.rootCaPem, rootCaPath: pki.rootCaPath };
}

/**
 * Fills a satellite's database with what a sync would have brought down — a Smart Account, a VA
 * and a pool of `count` licenses of `tag` — by running an authority on it for a moment with a
 * data directory of its own, and gives the satellite that owner key. Returns the VA id.
 */
export async function seedSatellite(
  satelliteDir: string,
  scratchDir: string,
  pool: { tag: string; count: number },
): Promise<string> {
  mkdirSync(satelliteDir, { recursive: true, mode: 0o700 });
  const seeder = await startServer({
    dataDir: scratchDir,
    dbUrl: `sqlite:${join(satelliteDir, 'smartlic.db')}`,
    port: 0,
    logLevel: 'silent',
    rateLimits: 'off',
  });
  let vaId: string;
  try {
    const key = readFileSync(seeder.adminKeyPath, 'utf8').trim();
    const seed = <T>(args: string[]) => cliJson<T>(['admin', '--server', seeder.url, '--api-key', key, ...args]);
    const account = await seed<{ id: string }>(['account', 'create', 'Site Corp']);
    vaId = (await seed<{ id: string }>(['va', 'create', 'Site', '--account', account.id])).id;
    await seed(['license', 'add', '--va', vaId, '--tag', pool.tag, '--count', String(pool.count)]);
  } finally {
    await seeder.close();
  }
  copyFileSync(seeder.adminKeyPath, join(satelliteDir, 'admin-api-key'));
  chmodSync(join(satelliteDir, 'admin-api-key'), 0o600);
  return vaId;
}

/** Registers the satellite of `satelliteDir` under `issuerDir` (an authority or a registered middle satellite). */
export async function registerSatellite(o: {
  issuerDir: string;
  satelliteDir: string;
  rootCaPem: string;
  name: string;
  validityMs?: number;
}): Promise<void> {
  mkdirSync(o.satelliteDir, { recursive: true, mode: 0o700 });
  const issued = await issueSatelliteCa({
    issuer: await satelliteCaIssuer(o.issuerDir),
    publicKeyPem: ensureSatelliteKey(o.satelliteDir).publicKeyPem,
    satelliteName: o.name,
    now: Date.now(),
    ...(o.validityMs ? { validityMs: o.validityMs } : {}),
  });
  await installSatelliteCertificate(o.satelliteDir, { rootCaPem: o.rootCaPem, ...issued });
}
