import type { ErrorCode } from '@smartlic/protocol/core';

/** What an agent operation did. */
export type OutcomeAction =
  | 'use'
  | 'register'
  | 'authorize'
  | 'renew-id'
  | 'deregister'
  | 'convert'
  | 'expire'
  | 'trust'
  | 'sync'
  | 'import'
  | 'authorization';

/**
 * The result of an agent operation. Protocol failures are outcomes, never exceptions:
 * `ok: false` with the operator-facing reason in `message` (the vendor's wording, e.g.
 * "Product Already Registered") and the error `code` when one is known.
 */
export interface Outcome {
  /** The operation. */
  action: OutcomeAction;
  /** Whether it succeeded. */
  ok: boolean;
  /** What happened, in the operator's words (the reason of a failure). */
  message: string;
  /** The error code of a failure, when one is known. */
  code?: ErrorCode;
  /** What the operation set off at once, e.g. the authorization that follows a registration. */
  followUps?: Outcome[];
}
