/** Largest request body accepted (device envelopes and admin bodies alike): 64 KiB. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/** Longest path parameter the router accepts (fastify's default); longer ones are refused with 400. */
export const MAX_PARAM_LENGTH = 100;
