import { HOUR, MINUTE } from '@smartlic/protocol';
import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './webhook-dispatcher.js';
import { signWebhookBody, verifyWebhookSignature } from './webhook-signature.js';

describe('webhook delivery rules', () => {
  it('backs off 1, 2, 4 … minutes, capped at one hour', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map(retryDelayMs)).toEqual([
      MINUTE,
      2 * MINUTE,
      4 * MINUTE,
      8 * MINUTE,
      16 * MINUTE,
      32 * MINUTE,
      HOUR,
      HOUR,
      HOUR,
    ]);
  });

  it('signs the raw body with HMAC-SHA256 and verifies it in constant time', () => {
    const body = '{"id":"d1","type":"webhook.test"}';
    const signature = signWebhookBody('s3cret-s3cret-s3cret', body);
    // echo -n "$body" | openssl dgst -sha256 -hmac s3cret-s3cret-s3cret
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature('s3cret-s3cret-s3cret', body, signature)).toBe(true);
    expect(verifyWebhookSignature('s3cret-s3cret-s3cret', `${body} `, signature)).toBe(false);
    expect(verifyWebhookSignature('s3cret-s3cret-s3cret', body, 'sha256=00')).toBe(false);
    expect(verifyWebhookSignature('s3cret-s3cret-s3cret', body, undefined)).toBe(false);
  });
});
