import { createPublicKey } from 'node:crypto';
import { ManualClock, REQUEST_SCHEMAS, SmartlicError } from '@smartlic/protocol';
import { describe, expect, it } from 'vitest';
import { loadVectors, type MessageVector, type SignatureVector } from '../../test-support/vectors.js';
import { checkDeviceClock, parseDeviceRequest } from './device-request.js';
import { verifyDeviceSignature } from './device-signature.js';

const messages = loadVectors<MessageVector>('messages');
const signatures = loadVectors<SignatureVector>('signatures');
const dummySignature = { alg: 'ES256', certSerial: 'csr', value: 'AAAA' };

describe('protocol vectors: messages.json through the request parser', () => {
  it('has vectors to run', () => {
    expect(messages.length).toBeGreaterThan(0);
  });

  for (const vector of messages) {
    it(`${vector.name} → ${vector.valid ? 'accepted' : 'BAD_REQUEST'}`, () => {
      expect(REQUEST_SCHEMAS[vector.type].safeParse(vector.message).success).toBe(vector.valid);
      const parse = () => parseDeviceRequest(vector.type, { payload: vector.message, signature: dummySignature });
      if (vector.valid) {
        const request = parse();
        expect(request.payload.type).toBe(vector.type);
        expect(request.envelope.payload).toBe(vector.message);
        // The vectors are stamped 2026-01-01, the manual clock's default.
        expect(() => checkDeviceClock(request.payload.timestamp, new ManualClock().now(), 3_600_000)).not.toThrow();
      } else {
        expect(parse).toThrow(SmartlicError);
        try {
          parse();
        } catch (error) {
          expect((error as SmartlicError).code).toBe('BAD_REQUEST');
          expect(Object.keys((error as SmartlicError).context.fields as object).length).toBeGreaterThan(0);
        }
      }
    });
  }
});

describe('protocol vectors: signatures.json through the routes’ verification', () => {
  it('has vectors to run', () => {
    expect(signatures.length).toBeGreaterThan(0);
  });

  for (const vector of signatures) {
    it(`${vector.name} → ${vector.valid ? 'verifies' : 'SIGNATURE_MISMATCH'}`, async () => {
      const request = parseDeviceRequest('authorize', vector.envelope);
      const key = createPublicKey(vector.publicKeyPem);
      const check = verifyDeviceSignature(request.envelope, key);
      if (vector.valid) await expect(check).resolves.toBeUndefined();
      else await expect(check).rejects.toThrow(new SmartlicError('SIGNATURE_MISMATCH'));
    });
  }
});

describe('device clock check', () => {
  it('accepts offsets up to the tolerance and refuses beyond with the vendor’s message', () => {
    expect(() => checkDeviceClock(1000, 1000 + 3_600_000, 3_600_000)).not.toThrow();
    expect(() => checkDeviceClock(1000, 1001 + 3_600_000, 3_600_000)).toThrow(
      "The device date '1000' is offset beyond the allowed tolerance limit.",
    );
  });
});
