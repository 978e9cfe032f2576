import { expect } from 'vitest';
import type { InstanceView } from '../features/instances/instance-service.js';
import type { CreatedTokenView, TokenView } from '../features/tokens/token-service.js';
import { type JsonAnswer, sendJson } from './http.js';

export interface LicenseRow {
  tag: string;
  name: string;
  quantity: number;
  inUse: number;
  surplus: number;
  alerts: string[];
}

export interface LicenseDetailRow extends LicenseRow {
  parent: string | null;
  coveredByOwn: number;
  coveredBy: Array<{ tag: string; count: number }>;
  lentToChildren: number;
  expiresAt: string | null;
}

/** What the token routes answer: the service's view, as JSON. */
export type TokenBody = TokenView;

/** What the instance routes answer: the service's view, as JSON. */
export type InstanceBody = InstanceView;

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

  /** The license list with the classic fields only (tag, name, quantity, inUse, surplus, alerts). */
  async listLicenses(vaId: string): Promise<LicenseRow[]> {
    const rows = await this.licenseDetails(vaId);
    return rows.map(({ tag, name, quantity, inUse, surplus, alerts }) => ({
      tag,
      name,
      quantity,
      inUse,
      surplus,
      alerts,
    }));
  }

  /** The license list with every field (hierarchy coverage, expiry). */
  licenseDetails(vaId: string) {
    return this.ok<LicenseDetailRow[]>('GET', `/api/v1/virtual-accounts/${vaId}/licenses`);
  }

  createToken(
    vaId: string,
    body: { description?: string; days?: number; maxUses?: number; exportControlled?: boolean } = {},
  ) {
    return this.ok<CreatedTokenView>('POST', `/api/v1/virtual-accounts/${vaId}/tokens`, body);
  }

  listTokens(vaId: string) {
    return this.ok<TokenBody[]>('GET', `/api/v1/virtual-accounts/${vaId}/tokens`);
  }

  revokeToken(tokenId: string) {
    return this.ok<CreatedTokenView>('POST', `/api/v1/tokens/${tokenId}/revoke`, undefined, 200);
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
