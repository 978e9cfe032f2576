import { CliError } from './output.js';

/** Where the admin commands send their requests, and with which key. */
export interface AdminConnection {
  server: string;
  apiKey: string;
}

/** Resolves the admin connection from flags, then SMARTLIC_SERVER / SMARTLIC_API_KEY. */
export function adminConnection(flags: { server?: string; apiKey?: string }): AdminConnection {
  const server = flags.server ?? process.env.SMARTLIC_SERVER;
  const apiKey = flags.apiKey ?? process.env.SMARTLIC_API_KEY;
  if (!server) throw new CliError('No server given: pass --server URL or set SMARTLIC_SERVER.');
  if (!apiKey) {
    throw new CliError(
      'No API key given: pass --api-key KEY or set SMARTLIC_API_KEY (the server wrote its first key to <data>/admin-api-key).',
    );
  }
  return {
    server: serverUrl(server, flags.server === undefined ? 'SMARTLIC_SERVER' : '--server'),
    apiKey: apiKey.trim(),
  };
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
  let response: Response;
  try {
    response = await fetch(`${connection.server}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${connection.apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new CliError(`Cannot reach the server at ${connection.server} (${reason}).`);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    throw new CliError(`The server answered ${response.status} with a body that is not JSON.`);
  }
  if (!response.ok) {
    const error = parsed as { message?: string; fields?: Record<string, string[]> } | undefined;
    const message = error?.message ?? `The server answered ${response.status}.`;
    throw new CliError(`${message}${fieldDetails(message, error?.fields)}`);
  }
  return parsed as T;
}

/** The per-field messages the server's sentence does not already say, in parentheses (or nothing). */
export function fieldDetails(message: string, fields: Record<string, string[]> | undefined): string {
  const unsaid = Object.entries(fields ?? {}).flatMap(([field, messages]) =>
    messages.map((m) => (field === '_' ? m : `${field}: ${m}`)).filter((detail) => !message.includes(detail)),
  );
  return unsaid.length > 0 ? ` (${unsaid.join('; ')})` : '';
}

/** Calls the admin REST API for a text answer (e.g. a CSV report); errors as {@link adminRequest}. */
export async function adminText(connection: AdminConnection, path: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(`${connection.server}${path}`, {
      headers: { authorization: `Bearer ${connection.apiKey}` },
    });
  } catch (error) {
    const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new CliError(`Cannot reach the server at ${connection.server} (${reason}).`);
  }
  const text = await response.text();
  if (!response.ok) {
    let message: string | undefined;
    try {
      message = (JSON.parse(text) as { message?: string }).message;
    } catch {
      // not JSON: fall back to the status
    }
    throw new CliError(message ?? `The server answered ${response.status}.`);
  }
  return text;
}
