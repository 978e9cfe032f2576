import { type JsonAnswer, sendJson } from './http.js';

/** What `POST`/`GET /api/v1/session` answer. */
export interface SessionBody {
  principal: {
    kind: 'owner' | 'user';
    id: string;
    email: string;
    name: string;
    grants: Array<{ accountId: string; vaId: string | null; role: string }>;
  };
  csrfToken: string;
  idleTimeoutSeconds: number;
}

/** The `smartlic_session` value of a response's Set-Cookie, if it sets one. */
export function sessionCookieOf(headers: Headers): string | undefined {
  for (const line of headers.getSetCookie()) {
    const match = /^smartlic_session=([^;]*)/.exec(line);
    if (match) return match[1];
  }
  return undefined;
}

/** A browser as the portal's REST calls see it: a session cookie and its CSRF token. */
export class SessionClient {
  cookie: string | undefined;
  csrfToken: string | undefined;

  constructor(readonly baseUrl: string) {}

  /** Signs in; on success keeps the cookie and CSRF token. */
  async signIn(
    credentials: { email: string; password: string } | { apiKey: string },
  ): Promise<JsonAnswer<SessionBody>> {
    const answer = await sendJson<SessionBody>(`${this.baseUrl}/api/v1/session`, {
      method: 'POST',
      body: credentials,
      headers: this.cookie ? { cookie: `smartlic_session=${this.cookie}` } : {},
    });
    if (answer.status === 200) {
      this.cookie = sessionCookieOf(answer.headers);
      this.csrfToken = answer.body.csrfToken;
    }
    return answer;
  }

  /** A request with the cookie; with `csrf` (default true) the session's X-CSRF-Token, and any extra headers. */
  request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    options: { csrf?: boolean | string; headers?: Record<string, string> } = {},
  ): Promise<JsonAnswer<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookie) headers.cookie = `smartlic_session=${this.cookie}`;
    const csrf = options.csrf ?? true;
    if (csrf === true && this.csrfToken) headers['x-csrf-token'] = this.csrfToken;
    if (typeof csrf === 'string') headers['x-csrf-token'] = csrf;
    return sendJson<T>(`${this.baseUrl}${path}`, { method, body, headers });
  }
}
