import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent } from '@smartlic/agent';
import {
  confirmationCode,
  deriveReservationMacKey,
  encodeRequestCode,
  newRequestNonce,
  newReservationKeyPair,
  parseAuthorizationCode,
  returnCode,
  SmartlicError,
} from '@smartlic/protocol';
import { type RunningServer, startServer } from '@smartlic/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './harness.js';

const TAG = 'regid.2026-01.com.example.A_1.0';
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0OIl-_+/=: ';

/** A seeded generator (Park–Miller), so that a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 48271) % 2147483647;
    return s / 2147483647;
  };
}

/** One random typo of `code` (substitution, deletion, insertion, transposition, truncation, case, blank); never a no-op. */
function mutate(code: string, r: () => number): string {
  for (;;) {
    const i = Math.floor(r() * code.length);
    const ch = ALPHABET[Math.floor(r() * ALPHABET.length)] ?? 'x';
    const c = code[i] ?? '';
    const kinds = [
      () => code.slice(0, i) + ch + code.slice(i + 1),
      () => code.slice(0, i) + code.slice(i + 1),
      () => code.slice(0, i) + ch + code.slice(i),
      () => code.slice(0, i) + (code[i + 1] ?? '') + c + code.slice(i + 2),
      () => code.slice(0, i),
      () => code.slice(0, i) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + code.slice(i + 1),
    ];
    const out = kinds[Math.floor(r() * kinds.length)]!();
    if (out.replace(/\s+/g, '') !== code.replace(/\s+/g, '')) return out;
  }
}

/**
 * Mutated codes of every kind through both sides' real parsers: the authority's HTTP routes
 * (create from a request code, confirm, return) and the agent (install, return-authorization).
 * None may be accepted; each refusal is a 4xx or a SmartlicError, never a crash.
 */
describe('reservation code fuzz through the authority and the agent', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let server: RunningServer;
  let headers: Record<string, string>;
  let vaId: string;

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const inUse = async () => {
    const res = await fetch(`${server.url}/api/v1/virtual-accounts/${vaId}/licenses`, { headers });
    return ((await res.json()) as { tag: string; inUse: number }[]).find((l) => l.tag === TAG)?.inUse;
  };

  beforeAll(async () => {
    dir = await tempDir();
    // Every mutated code must be answered by the parser, never by a rate limit.
    server = await startServer({ dataDir: join(dir.path, 'data'), port: 0, logLevel: 'silent', rateLimits: 'off' });
    headers = { authorization: `Bearer ${(await readFile(server.adminKeyPath, 'utf8')).trim()}` };
    const account = (await post('/api/v1/accounts', { name: 'Fuzz' })).body.id as string;
    vaId = (await post(`/api/v1/accounts/${account}/virtual-accounts`, { name: 'Fuzz' })).body.id as string;
    await post(`/api/v1/virtual-accounts/${vaId}/licenses`, { tag: TAG, count: 100 });
    await post(`/api/v1/virtual-accounts/${vaId}/reservation-settings`, { allowed: true });
  });
  afterAll(async () => {
    await server?.close();
    await dir?.cleanup();
  });

  it('the authority accepts no mutated request, confirmation or return code', async () => {
    const key = newReservationKeyPair();
    const udi = { pid: 'C9300-24UX', sn: 'FUZZ1' };
    const request = encodeRequestCode({ udi, nonce: newRequestNonce(), devicePublicKey: key.publicKey });
    const r = prng(7);
    let tried = 0;
    for (let n = 0; n < 400; n++) {
      const answer = await post(`/api/v1/virtual-accounts/${vaId}/reservations`, {
        requestCode: mutate(request, r),
        licenses: [{ tag: TAG, count: 1 }],
      });
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      tried++;
    }
    expect(await inUse()).toBe(0);
    const created = await post(`/api/v1/virtual-accounts/${vaId}/reservations`, {
      requestCode: request,
      licenses: [{ tag: TAG, count: 2 }],
    });
    expect(created.status).toBe(201);
    const instanceId = created.body.instanceId as string;
    const { payload } = parseAuthorizationCode(created.body.authorizationCode as string);
    const mac = deriveReservationMacKey(key.privateKeyPem, payload.authorityKey, payload.reservationId);
    await post(`/api/v1/instances/${instanceId}/reservation`, { licenses: [{ tag: TAG, count: 3 }] });
    const subject = { reservationId: payload.reservationId, sequence: 2, udi };
    const confirmation = confirmationCode(mac, subject);
    const ret = returnCode(mac, 'return', subject);
    for (let n = 0; n < 400; n++) {
      for (const [path, code] of [
        ['confirm', confirmation],
        ['return', ret],
      ] as const) {
        const answer = await post(`/api/v1/instances/${instanceId}/reservation/${path}`, { code: mutate(code, r) });
        expect(answer.status).toBeGreaterThanOrEqual(400);
        expect(answer.status).toBeLessThan(500);
        tried++;
      }
    }
    expect(await inUse()).toBe(3);
    expect((await post(`/api/v1/instances/${instanceId}/reservation/confirm`, { code: confirmation })).status).toBe(
      200,
    );
    expect((await post(`/api/v1/instances/${instanceId}/reservation/return`, { code: ret })).status).toBe(200);
    expect(await inUse()).toBe(0);
    expect(tried).toBe(1200);
  }, 120_000);

  it('the agent installs no mutated authorization code', async () => {
    const stateDir = join(dir.path, 'device');
    const agent = await Agent.init({ pid: 'C9300-24UX', sn: 'FUZZ2' }, { stateDir });
    await agent.use(TAG, 1);
    await agent.reservation({ type: 'enable', authorityRootPem: await readFile(server.rootCaPath, 'utf8') });
    const { code: request } = await agent.reservation({ type: 'request' });
    const created = await post(`/api/v1/virtual-accounts/${vaId}/reservations`, {
      requestCode: request,
      licenses: [{ tag: TAG, count: 1 }],
    });
    const first = created.body.authorizationCode as string;
    const r = prng(11);
    let tried = 0;
    // Before the first install: mutated codes neither install nor make a return code.
    for (let n = 0; n < 400; n++) {
      const kind = n % 4 === 0 ? 'return-authorization' : 'install';
      await expect(agent.reservation({ type: kind, code: mutate(first, r) })).rejects.toBeInstanceOf(SmartlicError);
      tried++;
    }
    expect(agent.status().reservation?.status).toBe('REQUEST PENDING');
    await agent.reservation({ type: 'install', code: first });
    const updated = await post(`/api/v1/instances/${created.body.instanceId as string}/reservation`, {
      licenses: [{ tag: TAG, count: 2 }],
    });
    const second = updated.body.authorizationCode as string;
    for (let n = 0; n < 400; n++) {
      await expect(agent.reservation({ type: 'install', code: mutate(second, r) })).rejects.toBeInstanceOf(
        SmartlicError,
      );
      tried++;
    }
    const status = agent.status();
    expect(status.authorization.status).toBe('AUTHORIZED - RESERVED');
    expect(status.reservation?.sequence).toBe(1);
    expect(tried).toBe(800);
  }, 120_000);
});
