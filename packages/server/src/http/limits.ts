/** Largest request body accepted (device envelopes and admin bodies alike): 64 KiB. */
export const BODY_LIMIT_BYTES = 64 * 1024;
