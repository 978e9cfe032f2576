import { Envelope, POLICY_REQUEST_SCHEMAS } from '@smartlic/protocol';
import type { z } from 'zod';
import { badRequest, issuesToFields } from '../../validation.js';
import { checkDeviceClock } from '../device/device-request.js';

/** The policy-model device message types. */
export type PolicyMessageType = keyof typeof POLICY_REQUEST_SCHEMAS;

/** A policy-model device message that passed shape validation. */
export interface PolicyRequest<T extends PolicyMessageType> {
  /** The envelope as received: its payload is what the signature covers. */
  envelope: Envelope<Record<string, unknown>>;
  payload: z.output<(typeof POLICY_REQUEST_SCHEMAS)[T]>;
}

/**
 * Validates a policy-model device message as `parseDeviceRequest` does a registration-model one:
 * the envelope, the payload against the schema of `type` (`BAD_REQUEST` with per-field messages),
 * then the device clock against ours (`CLOCK_OFFSET`).
 */
export function acceptPolicyRequest<T extends PolicyMessageType>(
  type: T,
  body: unknown,
  now: number,
  toleranceMs: number,
): PolicyRequest<T> {
  const outer = Envelope.safeParse(body);
  if (!outer.success) throw badRequest(issuesToFields(outer.error.issues));
  const received = body as Envelope<Record<string, unknown>>;
  const schema = POLICY_REQUEST_SCHEMAS[type] as unknown as z.ZodType<PolicyRequest<T>['payload']>;
  const inner = schema.safeParse(received.payload);
  if (!inner.success) throw badRequest(issuesToFields(inner.error.issues, 'payload'));
  checkDeviceClock(inner.data.timestamp, now, toleranceMs);
  return { envelope: { payload: received.payload, signature: outer.data.signature }, payload: inner.data };
}
