import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { testResolver } from '../../test-support/test-resolver.js';
import { createWebhookSender, SEND_TIMEOUT_MS } from './webhook-sender.js';

describe('webhook sender', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('never connects to a private literal address unless allowed, and connects when allowed', async () => {
    let hits = 0;
    const server = createServer((_request, response) => {
      hits++;
      response.statusCode = 204;
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const signal = new AbortController().signal;
      const guarded = createWebhookSender({ allowPrivate: false, resolve: testResolver() });
      expect(await guarded(url, '{}', {}, signal)).toEqual({
        ok: false,
        error: expect.stringMatching(/^refused: 127\.0\.0\.1 is 127\.0\.0\.1, a loopback address/),
      });
      expect(hits).toBe(0);
      const open = createWebhookSender({ allowPrivate: true, resolve: testResolver() });
      expect(await open(url, '{}', {}, signal)).toEqual({ ok: true, status: 204 });
      expect(hits).toBe(1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('gives up on a resolver that does not answer within the send timeout', async () => {
    vi.useFakeTimers();
    const send = createWebhookSender({ allowPrivate: false, resolve: () => new Promise(() => undefined) });
    const outcome = send('https://hung.test/x', '{}', {}, new AbortController().signal);
    await vi.advanceTimersByTimeAsync(SEND_TIMEOUT_MS);
    expect(await outcome).toEqual({ ok: false, error: 'cannot resolve hung.test (ETIMEOUT)' });
  });
});
