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
    expect(signature).toBe('sha256=3d791ab08f766d794ea67124f0cc73980ad551ed3f8e46b9c2b670ffbb7834f5');
    // The HMAC-SHA256 example receivers know from other webhook senders' documentation.
    expect(signWebhookBody("It's a Secret to Everybody", 'Hello, World!')).toBe(
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    );
    expect(verifyWebhookSignature('s3cret-s3cret-s3cret', body, signature)).toBe(true);
    expect(verifyWebhookSignature('s3cret-s3cret-s3cret', `${body} `, signature)).toBe(false);
    expect(verifyWebhookSignature('s3cret-s3cret-s3cret', body, 'sha256=00')).toBe(false);
    expect(verifyWebhookSignature('s3cret-s3cret-s3cret', body, undefined)).toBe(false);
  });
});
