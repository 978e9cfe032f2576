import {
  checkEnvelope,
  Envelope,
  errorMessage,
  REQUEST_CHECKS,
  REQUEST_SCHEMAS,
  ShapeError,
  SmartlicError,
} from '@smartlic/protocol';
import type { z } from 'zod';
import { badRequest, issuesToFields } from '../../validation.js';

/** The device message types, as `REQUEST_SCHEMAS` names them. */
export type DeviceMessageType = keyof typeof REQUEST_SCHEMAS;

/** The validated payload of a device message of type `T`. */
export type DevicePayload<T extends DeviceMessageType> = z.output<(typeof REQUEST_SCHEMAS)[T]>;

/** A device message that passed shape validation. */
export interface DeviceRequest<T extends DeviceMessageType> {
  /** The envelope as received: its payload is what the signature covers, unknown members included. */
  envelope: Envelope<Record<string, unknown>>;
  /** The payload as validated (unknown members dropped). */
  payload: DevicePayload<T>;
}

/**
 * Validates a device message: first the envelope, then the payload against the schema of
 * `type`. Failures are `BAD_REQUEST` with per-field messages (`payload.udi`, …); an
 * unknown signature algorithm is `UNSUPPORTED_ALGORITHM`.
 *
 * A valid message (nearly every one) is checked by the protocol's zod-free twins of the schemas
 * (`REQUEST_CHECKS`, `checkEnvelope`: equal to the schemas by a differential test, and a few
 * times cheaper on the hot path); anything they refuse is parsed again by the zod schemas, whose
 * per-field messages are the answer.
 */
export function parseDeviceRequest<T extends DeviceMessageType>(type: T, body: unknown): DeviceRequest<T> {
  return checkDeviceRequest(type, body) ?? parseDeviceRequestWithSchemas(type, body);
}

/** The zod-free checks: the validated request, or undefined when they refuse it (zod then says why). */
function checkDeviceRequest<T extends DeviceMessageType>(type: T, body: unknown): DeviceRequest<T> | undefined {
  try {
    const outer = checkEnvelope(body, '');
    const received = body as Envelope<Record<string, unknown>>;
    const payload = REQUEST_CHECKS[type](received.payload, 'payload') as DevicePayload<T>;
    return { envelope: { payload: received.payload, signature: outer.signature }, payload };
  } catch (error) {
    if (error instanceof ShapeError) return undefined;
    throw error;
  }
}

/**
 * {@link parseDeviceRequest} with the zod schemas alone: where its refusals are worded, and the
 * reference its zod-free path is tested against (`device-request.test.ts`).
 */
export function parseDeviceRequestWithSchemas<T extends DeviceMessageType>(type: T, body: unknown): DeviceRequest<T> {
  const outer = Envelope.safeParse(body);
  if (!outer.success) {
    const fields = issuesToFields(outer.error.issues);
    const alg = (body as { signature?: { alg?: unknown } } | null)?.signature?.alg;
    if (Object.keys(fields).every((f) => f === 'signature.alg') && typeof alg === 'string') {
      throw new SmartlicError('UNSUPPORTED_ALGORITHM', {
        message: `The signature algorithm '${alg.slice(0, 40)}' is not supported; use ES256 or Ed25519.`,
        context: { fields },
      });
    }
    throw badRequest(fields);
  }
  const received = body as Envelope<Record<string, unknown>>;
  const schema = REQUEST_SCHEMAS[type] as unknown as z.ZodType<DevicePayload<T>>;
  const inner = schema.safeParse(received.payload);
  if (!inner.success) throw badRequest(issuesToFields(inner.error.issues, 'payload'));
  return { envelope: { payload: received.payload, signature: outer.data.signature }, payload: inner.data };
}

/**
 * Refuses a device whose clock is more than `toleranceMs` away from ours, with the
 * vendor's words: "The device date '<ms>' is offset beyond the allowed tolerance limit."
 */
export function checkDeviceClock(deviceTime: number, now: number, toleranceMs: number): void {
  if (Math.abs(now - deviceTime) <= toleranceMs) return;
  const message = errorMessage('CLOCK_OFFSET', { deviceTime });
  throw new SmartlicError('CLOCK_OFFSET', {
    message,
    context: { fields: { timestamp: [message] }, deviceTime, serverTime: now },
  });
}
