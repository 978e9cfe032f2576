/**
 * The whole protocol: `core.js` (zod-free) and the zod schemas of the device messages,
 * which the server uses. The agent imports `@smartlic/protocol/core` instead.
 */
export * from './core.js';
export * from './messages.js';
export * from './policy-messages.js';
