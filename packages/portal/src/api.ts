/** The REST API as the portal uses it: same origin, the session cookie, the CSRF token on writes. */

export type Role = 'admin' | 'user' | 'viewer';

export interface Grant {
  accountId: string;
  vaId: string | null;
  role: Role;
}

export interface Principal {
  kind: 'owner' | 'user';
  id: string;
  email: string;
  name: string;
  grants: Grant[];
}

export interface Session {
  principal: Principal;
  csrfToken: string;
  idleTimeoutSeconds: number;
}

/** An answer of the API that is not 2xx: its `{code, message}` (or one sentence made up for it). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
let onSignedOut: (() => void) | null = null;

/** Remembers the CSRF token of the current session (in memory only, never in storage). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when the API answers 401 to a signed-in page: the session ended (idle timeout). */
export function setSignedOutHandler(handler: (() => void) | null): void {
  onSignedOut = handler;
}

async function errorOf(response: Response): Promise<ApiError> {
  let code = `HTTP_${response.status}`;
  let message = `The server answered ${response.status} ${response.statusText}.`;
  try {
    const body = (await response.json()) as { code?: unknown; message?: unknown };
    if (typeof body.code === 'string') code = body.code;
    if (typeof body.message === 'string') message = body.message;
  } catch {
    // not JSON: keep the sentence above
  }
  return new ApiError(response.status, code, message);
}

/** Sends one request to `/api/v1` + `path`; answers the parsed JSON (undefined for 204). */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? null : JSON.stringify(body),
  });
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401 && !path.startsWith('/session')) onSignedOut?.();
    throw error;
  }
  if (response.status === 204) return undefined as T;
  const type = response.headers.get('content-type') ?? '';
  return (type.includes('json') ? await response.json() : await response.text()) as T;
}

/** `?a=1&b=2` from the defined entries of `params` ('' when none). */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const signIn = (credentials: { email: string; password: string } | { apiKey: string }) =>
  api<Session>('POST', '/session', credentials);
export const currentSession = () => api<Session>('GET', '/session');
export const signOut = () => api<void>('DELETE', '/session');

export interface Account {
  id: string;
  name: string;
  domain: string;
}
export interface VirtualAccount {
  id: string;
  name: string;
  accountId: string;
}
export interface Token {
  id: string;
  token: string | null;
  tokenHint: string;
  description: string;
  createdAt: string;
  expiresAt: string;
  maxUses: number | null;
  uses: number;
  exportControlled: boolean;
  status: 'ACTIVE' | 'EXPIRED' | 'REVOKED' | 'USED_UP';
}
export interface LicenseRow {
  tag: string;
  name: string | null;
  quantity: number;
  inUse: number;
  surplus: number;
  alerts: string[];
  parent: string | null;
  coveredByOwn: number;
  coveredBy: { tag: string; count: number }[];
  lentToChildren: number;
  expiresAt: string | null;
}
export interface Instance {
  id: string;
  pid: string;
  sn: string;
  hostname: string | null;
  registeredAt: string;
  lastContact: string | null;
  usage: { tag: string; count: number }[];
  status: string;
  alerts: string[];
}
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
export interface EventRow {
  id: string;
  at: string;
  actor: string;
  type: string;
  vaId: string | null;
  detail: Record<string, unknown>;
}
export interface UsageSeries {
  tag: string;
  name: string | null;
  points: { day: string; quantity: number; inUse: number }[];
}
export interface Forecast {
  tag: string;
  name: string | null;
  quantity: number;
  inUse: number;
  trendPerDay: number;
  shortageDate: string | null;
  basis: string;
}
export interface ServerInfo {
  mode: 'authority' | 'satellite';
  version: string;
}

/** A sync document (registration or sync, request or response) as the files carry it. */
export interface SyncDocument {
  format: string;
  kind: string;
  payload: Record<string, unknown>;
  signature: { alg: string; value: string };
  certificates?: string[];
}
/** A satellite as the authority (or a middle satellite) lists it (SPEC §8). */
export interface Satellite {
  id: string;
  name: string;
  accountId: string;
  vas: { id: string; name: string }[];
  productInstances: number;
  registered: boolean;
  lastSyncUp: string | null;
  lastSyncDown: string | null;
  syncDue: string | null;
  version: string | null;
  certificateExpiresAt: string | null;
  alerts: string[];
}
/** A satellite's own synchronisation state (`GET /sync/status`). */
export interface SyncStatus {
  name: string | null;
  satelliteId: string | null;
  upstream: string | null;
  registered: boolean;
  vas: { id: string; name: string }[];
  health: string;
  lastSyncUp: string | null;
  lastSyncDown: string | null;
  syncDue: string | null;
  nextScheduledSync: string | null;
  scheduleDays: number | null;
  certificateExpiresAt: string | null;
  pendingRequest: number | null;
  lastError: string | null;
  alerts: string[];
}
