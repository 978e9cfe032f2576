import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** What one attempt to deliver a webhook came to. */
export type SendOutcome = { ok: true; status: number } | { ok: false; error: string };

/** Sends one webhook POST; never throws. */
export type WebhookSender = (
  url: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
) => Promise<SendOutcome>;

/** How long a receiver may take to answer. */
export const SEND_TIMEOUT_MS = 10_000;

/**
 * POSTs `body` with node:http(s): a 2xx answer is a success; any other status, a network
 * error or no answer within {@link SEND_TIMEOUT_MS} is a failure to retry.
 */
export const sendWebhook: WebhookSender = (url, body, headers, signal) =>
  new Promise<SendOutcome>((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      resolve({ ok: false, error: 'invalid URL' });
      return;
    }
    const request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(
      target,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'smartlic-webhooks',
        },
        timeout: SEND_TIMEOUT_MS,
        signal,
      },
      (response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        response.on('end', () =>
          resolve(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, error: `HTTP ${status}` }),
        );
        response.on('error', (error) => resolve({ ok: false, error: error.message }));
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${SEND_TIMEOUT_MS} ms`)));
    request.on('error', (error) => resolve({ ok: false, error: error.message.slice(0, 500) }));
    request.end(body);
  });
