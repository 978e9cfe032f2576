import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { withHint } from './error-hints.js';
import { CliError } from './output.js';

/** Where the admin commands send their requests, and with which key. */
export interface AdminConnection {
  server: string;
  apiKey: string;
  /** A CA certificate (PEM) trusted for `https://` servers besides the system's (`--ca` / `SMARTLIC_CA`). */
  ca?: string;
}

/** Resolves the admin connection from flags, then SMARTLIC_SERVER / SMARTLIC_API_KEY / SMARTLIC_CA. */
export function adminConnection(flags: { server?: string; apiKey?: string; ca?: string }): AdminConnection {
  const server = flags.server ?? process.env.SMARTLIC_SERVER;
  const apiKey = flags.apiKey ?? process.env.SMARTLIC_API_KEY;
  const caFile = flags.ca ?? (process.env.SMARTLIC_CA || undefined);
  if (!server) throw new CliError('No server given: pass --server URL or set SMARTLIC_SERVER.');
  if (!apiKey) {
    throw new CliError(
      'No API key given: pass --api-key KEY or set SMARTLIC_API_KEY (the server wrote its first key to <data>/admin-api-key).',
    );
  }
  return {
    server: serverUrl(server, flags.server === undefined ? 'SMARTLIC_SERVER' : '--server'),
    apiKey: apiKey.trim(),
    ...(caFile === undefined ? {} : { ca: readCa(caFile, flags.ca === undefined ? 'SMARTLIC_CA' : '--ca') }),
  };
}

/** The CA certificate file of `--ca` / `SMARTLIC_CA`, or one sentence saying what is wrong with it. */
function readCa(file: string, source: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(
      `${source} names ${file}, which cannot be read (${(error as { code?: string }).code ?? 'error'}).`,
    );
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new CliError(`${source} names ${file}, which is not a PEM certificate (e.g. <data>/pki/root-ca.pem).`);
  }
  return text;
}

/** Told the bytes of an answer received so far (and its length when the server said it). */
export type OnData = (received: number, total: number | undefined) => void;

/** A finished HTTP exchange. */
interface Answer {
  status: number;
  ok: boolean;
  text: string;
}

/**
 * Sends one request: with `fetch`, or, when the connection names a CA, with node:https trusting
 * it besides the system's CAs. A connection failure is one sentence (TLS trust failures say how
 * to trust the server's CA).
 */
async function send(
  connection: AdminConnection,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
  onData?: OnData,
): Promise<Answer> {
  const url = `${connection.server}${path}`;
  try {
    if (connection.ca !== undefined && url.startsWith('https:')) {
      return await sendTrusting(url, connection.ca, method, headers, body, onData);
    }
    const response = await fetch(url, { method, headers, body });
    if (!onData || !response.body) return { status: response.status, ok: response.ok, text: await response.text() };
    const total = Number(response.headers.get('content-length') ?? 0) || undefined;
    const chunks: Buffer[] = [];
    let received = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      chunks.push(Buffer.from(chunk));
      received += chunk.length;
      onData(received, total);
    }
    return { status: response.status, ok: response.ok, text: Buffer.concat(chunks).toString('utf8') };
  } catch (error) {
    const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
    const hint = /CERT|SIGNATURE|ISSUER|SELF_SIGNED/.test(reason ?? '')
      ? ": the server's TLS certificate is not trusted; pass --ca FILE or set SMARTLIC_CA to its CA (for --tls auto: <data>/pki/root-ca.pem)"
      : '';
    throw new CliError(
      `Cannot reach the server at ${connection.server} (${reason ?? (error as Error).message}${hint}).`,
    );
  }
}

function sendTrusting(
  url: string,
  ca: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
  onData?: OnData,
): Promise<Answer> {
  return new Promise((resolvePromise, reject) => {
    const request = httpsRequest(
      url,
      { method, headers, ca: [...rootCertificates, ca], timeout: 60_000 },
      (response) => {
        const chunks: Buffer[] = [];
        const total = Number(response.headers['content-length'] ?? 0) || undefined;
        let received = 0;
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          received += chunk.length;
          onData?.(received, total);
        });
        response.on('error', reject);
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          resolvePromise({ status, ok: status >= 200 && status < 300, text: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    request.on('timeout', () => request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    request.on('error', reject);
    request.end(body);
  });
}

/** The server's base URL, or one sentence saying how to write it (`127.0.0.1:8470` lacks its scheme). */
function serverUrl(value: string, source: string): string {
  const trimmed = value.trim().replace(/\/+$/, '');
  let url: URL | undefined;
  try {
    url = new URL(trimmed);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new CliError(
      `${source} "${value}" is not an http(s) URL: write it with its scheme, e.g. http://${trimmed.replace(/^[a-z]+:\/\//i, '') || '127.0.0.1:8470'}.`,
    );
  }
  return trimmed;
}

/** Calls the admin REST API and returns the parsed JSON body, or throws the server's one-sentence error. */
export async function adminRequest<T>(
  connection: AdminConnection,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await send(
    connection,
    method,
    path,
    {
      authorization: `Bearer ${connection.apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body === undefined ? undefined : JSON.stringify(body),
  );
  const text = response.text;
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    throw new CliError(`The server answered ${response.status} with a body that is not JSON.`);
  }
  if (!response.ok) {
    const error = parsed as { code?: string; message?: string; fields?: Record<string, string[]> } | undefined;
    const message = error?.message ?? `The server answered ${response.status}.`;
    const context = { vaId: vaIdOf(path, body) };
    throw new CliError(withHint(`${message}${fieldDetails(message, error?.fields)}`, error?.code, context));
  }
  return parsed as T;
}

/** The Virtual Account a call names, in its path (`/virtual-accounts/ID/…`) or body (`vaId`), for hints. */
function vaIdOf(path: string, body?: unknown): string | undefined {
  const inPath = /\/virtual-accounts\/([^/?]+)/.exec(path)?.[1];
  if (inPath) return decodeURIComponent(inPath);
  const inBody = (body as { vaId?: unknown } | undefined)?.vaId;
  return typeof inBody === 'string' ? inBody : undefined;
}

/** The per-field messages the server's sentence does not already say, in parentheses (or nothing). */
export function fieldDetails(message: string, fields: Record<string, string[]> | undefined): string {
  const unsaid = Object.entries(fields ?? {}).flatMap(([field, messages]) =>
    messages.map((m) => (field === '_' ? m : `${field}: ${m}`)).filter((detail) => !message.includes(detail)),
  );
  return unsaid.length > 0 ? ` (${unsaid.join('; ')})` : '';
}

/**
 * Calls the admin REST API for a text answer (e.g. a CSV report); errors as {@link adminRequest}.
 * `onData` follows the download (for a progress line).
 */
export async function adminText(connection: AdminConnection, path: string, onData?: OnData): Promise<string> {
  const response = await send(
    connection,
    'GET',
    path,
    { authorization: `Bearer ${connection.apiKey}` },
    undefined,
    onData,
  );
  const text = response.text;
  if (!response.ok) {
    let error: { code?: string; message?: string } | undefined;
    try {
      error = JSON.parse(text) as { code?: string; message?: string };
    } catch {
      // not JSON: fall back to the status
    }
    const message = error?.message ?? `The server answered ${response.status}.`;
    throw new CliError(withHint(message, error?.code, { vaId: vaIdOf(path) }));
  }
  return text;
}
