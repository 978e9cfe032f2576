import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying `sha256=<hex HMAC-SHA256 of the raw body, keyed with the webhook's secret>`. */
export const SIGNATURE_HEADER = 'x-smartlic-signature';
/** Header carrying the send time, ms since the epoch. */
export const TIMESTAMP_HEADER = 'x-smartlic-timestamp';
/** Header carrying the delivery id: the same on every retry of one delivery, so receivers can drop duplicates. */
export const DELIVERY_HEADER = 'x-smartlic-delivery';

/** `sha256=<hex>` of `body` with `secret`. */
export function signWebhookBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** Whether `signature` (the header's value) is the signature of `body` with `secret`; constant-time. */
export function verifyWebhookSignature(secret: string, body: string, signature: string | undefined): boolean {
  if (signature === undefined) return false;
  const expected = Buffer.from(signWebhookBody(secret, body));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
