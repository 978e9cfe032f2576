import { isErrorCode, SmartlicError } from '@smartlic/protocol';

/** Sends a request document (its JSON text) to the upstream and returns its answer document. */
export type UpstreamSend = (upstream: string, path: 'register' | 'sync', body: string) => Promise<unknown>;

/** How long a sync may wait for the upstream. */
const TIMEOUT_MS = 120_000;

/**
 * `fetch` to `<upstream>/api/v1/satellite-sync/<path>`: an unreachable upstream is
 * `UPSTREAM_UNREACHABLE`; a refusal comes back as the upstream's own code and sentence.
 */
export const fetchUpstream: UpstreamSend = async (upstream, path, request) => {
  const url = `${upstream.replace(/\/+$/, '')}/api/v1/satellite-sync/${path}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: request,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new SmartlicError('UPSTREAM_UNREACHABLE', {
      message: `The upstream ${upstream} could not be reached (${reason}); nothing was changed.`,
      cause: error,
    });
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new SmartlicError('UPSTREAM_UNREACHABLE', {
      message: `The upstream ${upstream} answered HTTP ${response.status} with something that is not JSON; nothing was changed.`,
    });
  }
  if (!response.ok) {
    const { code, message } = (body ?? {}) as { code?: unknown; message?: unknown };
    const known = isErrorCode(code) ? code : 'UPSTREAM_UNREACHABLE';
    throw new SmartlicError(known === 'INTERNAL' ? 'UPSTREAM_UNREACHABLE' : known, {
      message: `The upstream refused the sync: ${typeof message === 'string' ? message : `HTTP ${response.status}`}`,
    });
  }
  return body;
};
