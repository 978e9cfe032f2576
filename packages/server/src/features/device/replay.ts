import { SmartlicError } from '@smartlic/protocol';

/** The error of a message whose nonce was seen before. */
export function replayedNonce(): SmartlicError {
  return new SmartlicError('REPLAYED_NONCE', { context: { fields: { nonce: ['has already been used'] } } });
}
