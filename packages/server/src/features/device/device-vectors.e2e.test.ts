import { DEVICE_ROUTES, generateKeyPair, signEnvelope } from '@smartlic/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sendJson } from '../../test-support/http.js';
import { describeEachEngine } from '../../test-support/postgres.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';
import { loadVectors, type MessageVector } from '../../test-support/vectors.js';

const ROUTE_OF = {
  register: DEVICE_ROUTES.register,
  authorize: DEVICE_ROUTES.authorize,
  'renew-id': DEVICE_ROUTES.renewId,
  deregister: DEVICE_ROUTES.deregister,
  convert: DEVICE_ROUTES.convert,
} as const;

describeEachEngine('protocol vectors: messages.json through the real routes', (engine) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ engine }); // the manual clock starts at the vectors' timestamp
  });
  afterAll(async () => {
    await t.dispose();
  });

  for (const vector of loadVectors<MessageVector>('messages')) {
    it(`${vector.name} → ${vector.valid ? 'passes validation' : '400 BAD_REQUEST'}`, async () => {
      const key = generateKeyPair().privateKey;
      const envelope = signEnvelope(vector.message, key, vector.type === 'register' ? 'csr' : '1a2b3c');
      const answer = await sendJson<{ code: string; fields?: Record<string, string[]> }>(
        `${t.url}${ROUTE_OF[vector.type]}`,
        { method: 'POST', body: envelope },
      );
      if (vector.valid) {
        // Valid in shape; refused later for who sent it (unknown key or instance), never as a bad request.
        expect(answer.body.code).not.toBe('BAD_REQUEST');
        expect([401, 404]).toContain(answer.status);
      } else {
        expect(answer.status).toBe(400);
        expect(answer.body.code).toBe('BAD_REQUEST');
        expect(Object.keys(answer.body.fields ?? {}).every((f) => f.startsWith('payload'))).toBe(true);
      }
    });
  }
});
