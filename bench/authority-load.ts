import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AuthorizeRequest,
  canonicalBytes,
  createCsr,
  DEVICE_ROUTES,
  generateKeyPair,
  type KeyPair,
  newNonce,
  PROTOCOL_VERSION,
  type RegisterResponse,
  signBytes,
  signEnvelope,
  verifyBytes,
} from '@smartlic/protocol';
import { httpPost } from './load.js';
import { api } from './server-process.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TAG = 'regid.2026-01.com.example.bench';

export interface Device {
  keys: KeyPair;
  registration: RegisterResponse;
}

/** Registers one simulated device with a fresh key; by default UDI `BENCH B<i>`, with force. */
export async function registerDevice(
  url: string,
  token: string,
  i: number,
  udi: { pid: string; sn: string; force: boolean } = {
    pid: 'BENCH',
    sn: `B${String(i).padStart(6, '0')}`,
    force: true,
  },
): Promise<Device> {
  const keys = generateKeyPair('ES256');
  const payload = {
    type: 'register' as const,
    version: PROTOCOL_VERSION,
    timestamp: Date.now(),
    nonce: newNonce(),
    idToken: token,
    softwareTag: 'regid.2026-01.org.smartlic.bench',
    udi: { pid: udi.pid, sn: udi.sn },
    csr: await createCsr(keys, `CN=${udi.pid}:${udi.sn}`),
    force: udi.force,
  };
  const res = await fetch(`${url}${DEVICE_ROUTES.register}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(signEnvelope(payload, keys.privateKey, 'csr')),
  });
  if (!res.ok) throw new Error(`register: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { payload: RegisterResponse };
  return { keys, registration: body.payload };
}

/** A signed authorization of `device` using one license of `tag`, as the JSON body to POST. */
export function authorizeBody(device: Device, tag = TAG): string {
  const payload: AuthorizeRequest = {
    type: 'authorize',
    version: PROTOCOL_VERSION,
    timestamp: Date.now(),
    nonce: newNonce(),
    instanceId: device.registration.instanceId,
    idCertSerial: device.registration.idCertSerial,
    signingCertSerial: device.registration.signingCertSerial,
    entitlements: [{ tag, count: 1 }],
  };
  return JSON.stringify(signEnvelope(payload, device.keys.privateKey, device.registration.idCertSerial));
}

export function authorizeRequests(device: Device, count: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) out.push(httpPost(DEVICE_ROUTES.authorize, authorizeBody(device)));
  return out;
}

export function cryptoCeiling(seconds: number): number {
  const device = generateKeyPair('ES256');
  const server = generateKeyPair('ES256');
  const request = canonicalBytes({ type: 'authorize', nonce: newNonce(), entitlements: [{ tag: TAG, count: 1 }] });
  const response = canonicalBytes({
    type: 'authorize-response',
    status: 'InCompliance',
    entitlements: [{ tag: TAG, requested: 1 }],
  });
  const signature = signBytes(request, device.privateKey, 'ES256');
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) {
      if (!verifyBytes(request, signature, device.publicKey, 'ES256')) throw new Error('verify failed');
      signBytes(response, server.privateKey, 'ES256');
    }
    n += 100;
  }
  return n / seconds;
}

/**
 * `node …/smartlic.js server` arguments of a benchmark server on `dataDir` (and `--db db` if
 * given); `cli` is another build's `smartlic.js` (a baseline measured in the same run).
 */
export function serverArgs(
  dataDir: string,
  db?: string,
  nodeArgs: string[] = [],
  cli = join(ROOT, 'packages/cli/bin/smartlic.js'),
): string[] {
  return [
    ...nodeArgs,
    cli,
    'server',
    '--data',
    dataDir,
    ...(db ? ['--db', db] : []),
    '--port',
    '0',
    '--log-level',
    'warn',
    // Each simulated device renews dozens of times a second, which no real one does: the
    // per-instance limit is raised out of the way, but its counting stays in the measurement.
    '--rate-limit-device',
    '10000000',
  ];
}

/**
 * Creates an account, a VA with `devices` licenses of TAG and a token, registers `devices`
 * devices and pre-signs `perDevice` authorization renewals for each (one queue per device).
 */
export async function setUpDevices(
  url: string,
  dataDir: string,
  devices: number,
  perDevice: number,
): Promise<Buffer[][]> {
  const key = (await readFile(join(dataDir, 'admin-api-key'), 'utf8')).trim();
  const account = await api<{ id: string }>(url, key, '/api/v1/accounts', { name: 'Bench' });
  const va = await api<{ id: string }>(url, key, `/api/v1/accounts/${account.id}/virtual-accounts`, { name: 'Bench' });
  await api(url, key, `/api/v1/virtual-accounts/${va.id}/licenses`, { tag: TAG, count: devices });
  const token = await api<{ token: string }>(url, key, `/api/v1/virtual-accounts/${va.id}/tokens`, { days: 1 });
  const registered: Device[] = [];
  for (let i = 0; i < devices; i++) registered.push(await registerDevice(url, token.token, i));
  return registered.map((d) => authorizeRequests(d, perDevice));
}

/** The median of `values` (the lower middle for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

/** `median (min–max)` of `values`, with `digits` decimals. */
export function spread(values: number[], digits = 0): string {
  const f = (v: number) => v.toFixed(digits);
  if (values.length === 1) return f(values[0] ?? Number.NaN);
  return `${f(median(values))} (${f(Math.min(...values))}–${f(Math.max(...values))})`;
}
