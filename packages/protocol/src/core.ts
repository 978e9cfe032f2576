/**
 * Everything of the protocol except the zod schemas: what the agent loads. Importing this
 * entry (`@smartlic/protocol/core`) never loads zod (ADR 0005); messages are validated with
 * the checks of `wire-checks.ts`. The message types are re-exported as types only.
 */
export * from './canonical.js';
export * from './check.js';
export * from './clock.js';
export * from './errors.js';
export * from './field-rules.js';
export type * from './messages.js';
export * from './pki.js';
export * from './policy-checks.js';
export type * from './policy-messages.js';
export * from './policy-wire.js';
export * from './reservation-codes.js';
export * from './signing.js';
export * from './timers.js';
export * from './wire.js';
export * from './wire-checks.js';
