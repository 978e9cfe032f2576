import { createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { expect, it } from 'vitest';
import {
  importPublicJwkOffThread,
  keyBatchesPosted,
  keyImportWorkerOnline,
  keysImportedOffThread,
} from './off-thread-keys.js';

it('imports P-256 JWKs here until the worker runs, then on the worker to the same keys, many at once in one message, and refuses a point off the curve', async () => {
  // Before the worker runs, keys are imported here: no request waits for it to start.
  const first = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  expect((await importPublicJwkOffThread(first.export({ format: 'jwk' }))).equals(first)).toBe(true);
  expect(keysImportedOffThread()).toBe(0);
  const jwks = Array.from({ length: 40 }, () =>
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }),
  );
  expect(await keyImportWorkerOnline()).toBe(true);
  const before = keysImportedOffThread();
  const batchesBefore = keyBatchesPosted();
  const keys = await Promise.all(jwks.map((jwk) => importPublicJwkOffThread(jwk)));
  expect(keysImportedOffThread() - before).toBe(jwks.length);
  // Asked for in one turn of the event loop, they travelled in one message.
  expect(keyBatchesPosted() - batchesBefore).toBe(1);
  for (const [i, key] of keys.entries()) {
    expect(key).toBeInstanceOf(KeyObject);
    expect(key.equals(createPublicKey({ key: jwks[i]!, format: 'jwk' }))).toBe(true);
  }
  const y = Buffer.from(jwks[0]!.y!, 'base64url');
  y[31]! ^= 1;
  const offCurve = { ...jwks[0]!, y: y.toString('base64url') };
  expect(() => createPublicKey({ key: offCurve, format: 'jwk' })).toThrow();
  await expect(importPublicJwkOffThread(offCurve)).rejects.toThrow(Error);
  // The worker goes on answering after a refusal.
  expect((await importPublicJwkOffThread(jwks[1]!)).equals(keys[1]!)).toBe(true);
  expect(keysImportedOffThread() - before).toBe(jwks.length + 2);
  expect(keyBatchesPosted() - batchesBefore).toBe(3);
});
