import type { HostResolver } from '../features/webhooks/webhook-target.js';

/**
 * Name resolution for test servers: the names in `table`, and no other (never real DNS, so
 * that no test sends traffic off this machine).
 */
export function testResolver(table: Record<string, string[]> = {}): HostResolver {
  return async (hostname) => {
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}
