import { chmodSync, copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ManualClock } from '@smartlic/protocol';
import { loadOrCreatePki } from '../features/pki/authority-pki.js';
import type { PkiHolder } from '../features/pki/pki-holder.js';
import {
  ensureSatelliteKey,
  installSatelliteCertificate,
  issueSatelliteCa,
  satelliteCaIssuer,
} from '../features/pki/satellite-pki.js';
import { startServer } from '../start-server.js';
import { AdminClient } from './admin-client.js';
import { makeTempDir } from './temp-dir.js';

/**
 * Fills a satellite's SQLite database (`<satelliteDir>/smartlic.db`) with what a sync would have
 * brought down (accounts, VAs, pools), by running an authority on that database with a data
 * directory of its own for a moment: the satellite itself refuses to create them.
 */
export async function seedSatelliteDatabase<T>(
  satelliteDir: string,
  clock: ManualClock,
  seed: (admin: AdminClient) => Promise<T>,
): Promise<T> {
  const scratch = makeTempDir();
  try {
    const server = await startServer({
      dataDir: scratch.path,
      dbUrl: `sqlite:${join(satelliteDir, 'smartlic.db')}`,
      port: 0,
      logLevel: 'silent',
      clock,
      rateLimits: 'off',
      jobStartDelayMs: 3_600_000,
    });
    try {
      return await seed(new AdminClient(server.url, readFileSync(server.adminKeyPath, 'utf8').trim()));
    } finally {
      await server.close();
      // The owner key lives in the database: the satellite's admin commands use the same one.
      copyFileSync(server.adminKeyPath, join(satelliteDir, 'admin-api-key'));
      chmodSync(join(satelliteDir, 'admin-api-key'), 0o600);
    }
  } finally {
    scratch.remove();
  }
}

/**
 * Registers the satellite of `satelliteDir` as a registration would: issues its signing CA by
 * `issuerDir` (an authority, or a registered middle satellite) and installs it, swapping `pki`
 * when given (a running satellite). `validityMs` shortens the certificate (an expiry test).
 */
export async function registerSatelliteCa(o: {
  issuerDir: string;
  satelliteDir: string;
  name: string;
  now: number;
  pki?: PkiHolder;
  validityMs?: number;
}): Promise<{ certificatePem: string; chainPems: string[]; notAfter: number; rootCaPem: string }> {
  const issuer = await satelliteCaIssuer(o.issuerDir);
  const rootCaPem = readFileSync(join(o.issuerDir, 'pki', 'root-ca.pem'), 'utf8');
  const issued = await issueSatelliteCa({
    issuer,
    publicKeyPem: ensureSatelliteKey(o.satelliteDir).publicKeyPem,
    satelliteName: o.name,
    now: o.now,
    ...(o.validityMs ? { validityMs: o.validityMs } : {}),
  });
  await installSatelliteCertificate(o.satelliteDir, {
    rootCaPem,
    ...issued,
    ...(o.pki ? { pki: o.pki } : {}),
  });
  return { ...issued, rootCaPem };
}

/** A fresh authority data directory (root and signing CA), for issuing satellite CAs in tests. */
export async function makeAuthorityDir(clock: ManualClock): Promise<{ path: string; remove(): void }> {
  const dir = makeTempDir();
  await loadOrCreatePki({ dataDir: dir.path, clock });
  return dir;
}
