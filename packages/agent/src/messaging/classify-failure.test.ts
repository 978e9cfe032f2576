import { DAY } from '@smartlic/protocol';
import { describe, expect, it } from 'vitest';
import { httpFailure, retryAfterOf } from './classify-failure.js';

const limitedBody = JSON.stringify({
  code: 'RATE_LIMITED',
  message: 'Too many requests from this client: wait 42 seconds, then try again.',
  requestId: 'r1',
});

describe('HTTP failures', () => {
  it('takes a 429 with Retry-After as a retryable RATE_LIMITED failure that says how long to wait', () => {
    expect(httpFailure({ status: 429, retryAfter: '42', body: limitedBody })).toEqual({
      reason: 'Too many requests from this client: wait 42 seconds, then try again.',
      code: 'RATE_LIMITED',
      retryable: true,
      transport: false,
      detail: 'HTTP 429, request r1',
      retryAfterMs: 42_000,
    });
  });

  it('honours Retry-After on 429 and 503 only, in delay-seconds, capped at a day', () => {
    expect(httpFailure({ status: 503, retryAfter: '5', body: '' }).retryAfterMs).toBe(5000);
    expect(httpFailure({ status: 429, retryAfter: '9999999', body: '' }).retryAfterMs).toBe(DAY);
    expect(httpFailure({ status: 429, body: '' })).toMatchObject({ code: 'SERVER_BUSY', retryable: true });
    expect(httpFailure({ status: 429, body: '' }).retryAfterMs).toBeUndefined();
    const refused = JSON.stringify({ code: 'ALREADY_REGISTERED', message: 'Product Already Registered' });
    expect(httpFailure({ status: 409, retryAfter: '42', body: refused }).retryAfterMs).toBeUndefined();
  });

  it('ignores a Retry-After that is not delay-seconds', () => {
    expect(retryAfterOf('Wed, 21 Oct 2026 07:28:00 GMT')).toEqual({});
    expect(retryAfterOf('-1')).toEqual({});
    expect(retryAfterOf('1.5')).toEqual({});
    expect(retryAfterOf(undefined)).toEqual({});
    expect(retryAfterOf(' 7 ')).toEqual({ retryAfterMs: 7000 });
  });
});
