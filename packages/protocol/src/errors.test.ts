import { describe, expect, it } from 'vitest';
import { ERRORS, errorMessage, SmartlicError } from './errors.js';

describe('error table', () => {
  it('keeps the seed wordings', () => {
    expect(errorMessage('CLOCK_OFFSET', { deviceTime: 123 })).toBe(
      "The device date '123' is offset beyond the allowed tolerance limit.",
    );
    expect(ERRORS.SIGNATURE_MISMATCH.message).toBe('data and signature do not match');
    expect(ERRORS.ALREADY_REGISTERED.message).toBe('Product Already Registered');
    expect(ERRORS.TRANSPORT_NOT_AVAILABLE.message).toBe('Communication transport not available.');
  });

  it('gives every code a distinct message', () => {
    const messages = Object.values(ERRORS).map((e) => e.message);
    expect(new Set(messages).size).toBe(messages.length);
  });

  it('carries code, status and retryability', () => {
    const e = new SmartlicError('SERVER_BUSY');
    expect(e.code).toBe('SERVER_BUSY');
    expect(e.status).toBe(503);
    expect(e.retryable).toBe(true);
    expect(new SmartlicError('TOKEN_EXPIRED').retryable).toBe(false);
    const limited = new SmartlicError('RATE_LIMITED', { params: { seconds: 42 } });
    expect(limited).toMatchObject({ status: 429, retryable: true });
    expect(limited.message).toBe('Too many requests from this client: wait 42 seconds, then try again.');
  });
});
