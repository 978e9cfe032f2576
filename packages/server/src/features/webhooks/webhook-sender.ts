import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { type ResolvedAddress, vetWebhookTarget, type WebhookTargetPolicy } from './webhook-target.js';

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
 * A sender that POSTs `body` with node:http(s): a 2xx answer is a success; any other status,
 * a network error or no answer within {@link SEND_TIMEOUT_MS} is a failure to retry. The host
 * is resolved first and, unless the policy allows private targets, refused when any of its
 * addresses is not public; the connection then goes to exactly the vetted address (TLS still
 * checks the certificate against the host name), so a name cannot be rebound to an internal
 * address between check and connect.
 */
export function createWebhookSender(policy: WebhookTargetPolicy): WebhookSender {
  const bounded: WebhookTargetPolicy = { ...policy, resolve: (host) => withinSendTimeout(policy.resolve(host)) };
  return async (url, body, headers, signal) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return { ok: false, error: 'invalid URL' };
    }
    const vetted = await vetWebhookTarget(target, bounded);
    if (!vetted.ok) return vetted;
    return post(target, vetted.address, body, headers, signal);
  };
}

function post(
  target: URL,
  address: ResolvedAddress,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<SendOutcome> {
  return new Promise<SendOutcome>((resolve) => {
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
        lookup: pinnedLookup(address),
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
}

/** `resolving`, or a rejection once {@link SEND_TIMEOUT_MS} has passed (a hung resolver must not hold a run). */
function withinSendTimeout<T>(resolving: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error('resolver timeout'), { code: 'ETIMEOUT' })),
      SEND_TIMEOUT_MS,
    );
    timer.unref();
  });
  return Promise.race([resolving, timeout]).finally(() => clearTimeout(timer));
}

/** A `lookup` for net.connect that answers every name with the one vetted address. */
function pinnedLookup({ address, family }: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}
