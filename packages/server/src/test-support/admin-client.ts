import { expect } from 'vitest';
import { type JsonAnswer, sendJson } from './http.js';

export interface LicenseRow {
  tag: string;
  name: string;
  quantity: number;
  inUse: number;
  surplus: number;
  alerts: string[];
}

export interface TokenBody {
  id: string;
  token: string;
  vaId: string;
  description: string;
  createdAt: string;
  expiresAt: string;
  maxUses: number | null;
  uses: number;
  exportControlled: boolean;
  revokedAt: string | null;
  status: string;
}

export interface InstanceBody {
  id: string;
  pid: string;
  sn: string;
  hostname: string | null;
  softwareTag: string;
  registeredAt: string;
  lastContact: string;
  idCertSerial: string;
  idCertExpiresAt: string;
  usage: Array<{ tag: string; count: number }>;
  status: string;
}

/** The admin REST API as tests drive it, with the bootstrap key. */
export class AdminClient {
  constructor(
    readonly baseUrl: string,
    readonly apiKey: string,
  ) {}

  request<T = unknown>(method: string, path: string, body?: unknown): Promise<JsonAnswer<T>> {
    return sendJson<T>(`${this.baseUrl}${path}`, {
      method,
      body,
      headers: { authorization: `Bearer ${this.apiKey}` },
    });
  }

  async ok<T>(method: string, path: string, body?: unknown, status = method === 'POST' ? 201 : 200): Promise<T> {
    const answer = await this.request<T>(method, path, body);
    expect(answer.status, JSON.stringify(answer.body)).toBe(status);
    return answer.body;
  }

  createAccount(name: string, domain?: string) {
    return this.ok<{ id: string; name: string; domain: string }>('POST', '/api/v1/accounts', { name, domain });
  }

  createVa(accountId: string, name: string) {
    return this.ok<{ id: string; name: string; accountId: string }>(
      'POST',
      `/api/v1/accounts/${accountId}/virtual-accounts`,
      { name },
    );
  }

  addLicense(vaId: string, body: { tag: string; count: number; name?: string; type?: string; endsAt?: string }) {
    return this.ok<{ id: string; tag: string; quantity: number }>(
      'POST',
      `/api/v1/virtual-accounts/${vaId}/licenses`,
      body,
    );
  }

  listLicenses(vaId: string) {
    return this.ok<LicenseRow[]>('GET', `/api/v1/virtual-accounts/${vaId}/licenses`);
  }

  createToken(
    vaId: string,
    body: { description?: string; days?: number; maxUses?: number; exportControlled?: boolean } = {},
  ) {
    return this.ok<TokenBody>('POST', `/api/v1/virtual-accounts/${vaId}/tokens`, body);
  }

  listTokens(vaId: string) {
    return this.ok<TokenBody[]>('GET', `/api/v1/virtual-accounts/${vaId}/tokens`);
  }

  revokeToken(tokenId: string) {
    return this.ok<TokenBody>('POST', `/api/v1/tokens/${tokenId}/revoke`, undefined, 200);
  }

  listInstances(vaId: string) {
    return this.ok<InstanceBody[]>('GET', `/api/v1/virtual-accounts/${vaId}/instances`);
  }

  /** A Smart Account with one VA. */
  async setupVa(name = 'Acme'): Promise<{ accountId: string; vaId: string; domain: string }> {
    const account = await this.createAccount(name);
    const va = await this.createVa(account.id, 'Lab');
    return { accountId: account.id, vaId: va.id, domain: account.domain };
  }
}
