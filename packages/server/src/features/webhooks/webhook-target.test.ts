import { describe, expect, it } from 'vitest';
import {
  classifyAddress,
  type HostResolver,
  redactUrlCredentials,
  vetWebhookTarget,
  webhookUrlRefusal,
} from './webhook-target.js';

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared (CGNAT)'],
    ['100.127.255.255', 'shared (CGNAT)'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456:789a::1', 'unique-local'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['2001:db8::1', 'reserved'],
    // IPv6 forms that carry an IPv4 address are judged by it.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0:0:0:0:0:ffff:a00:1', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:0:7f00:1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:c0a8:0101::1', 'private'],
    ['::7f00:1', 'reserved'], // IPv4-compatible (deprecated)
    ['not an address', 'reserved'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it.each([
    '8.8.8.8',
    '93.184.216.34',
    '172.32.0.1', // just past 172.16/12
    '100.128.0.1', // just past 100.64/10
    '169.253.255.255',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:0808:0808::1',
  ])('%s is public', (address) => {
    expect(classifyAddress(address)).toBeNull();
  });
});

describe('webhookUrlRefusal', () => {
  // The WHATWG URL parser turns these spellings into the canonical address; what it gives is checked.
  it.each([
    ['http://127.1/x', '127.0.0.1', 'loopback'],
    ['http://0x7f.0.0.1/x', '127.0.0.1', 'loopback'],
    ['http://2130706433/x', '127.0.0.1', 'loopback'],
    ['http://017700000001/x', '127.0.0.1', 'loopback'],
    ['http://0/x', '0.0.0.0', 'unspecified'],
    ['http://[::ffff:127.0.0.1]/x', '::ffff:7f00:1', 'loopback'],
    ['http://[::1]:8080/x', '::1', 'loopback'],
    ['http://10.0.0.1/x', '10.0.0.1', 'private'],
    ['http://169.254.169.254/latest/meta-data', '169.254.169.254', 'link-local'],
    ['https://[fd00::1]/x', 'fd00::1', 'unique-local'],
    ['http://localhost:3000/x', 'localhost', 'loopback'],
    ['http://LOCALHOST./x', 'localhost.', 'loopback'],
    ['http://api.localhost/x', 'api.localhost', 'loopback'],
  ])('refuses %s (%s, %s) unless private targets are allowed', (url, host, kind) => {
    expect(webhookUrlRefusal(url, false)).toBe(
      `The webhook URL points at ${host}, a ${kind} address: webhooks may only reach public addresses unless the server runs with --webhook-allow-private.`,
    );
    expect(webhookUrlRefusal(url, true)).toBeNull();
  });

  it('accepts public addresses and names (names are checked again at delivery)', () => {
    expect(webhookUrlRefusal('https://hooks.example.com/x', false)).toBeNull();
    expect(webhookUrlRefusal('https://8.8.8.8/x', false)).toBeNull();
    expect(webhookUrlRefusal('https://127.0.0.1.nip.io/x', false)).toBeNull();
  });

  it('refuses credentials in the URL even when private targets are allowed', () => {
    for (const url of [
      'https://user:pass@hooks.example.com/x',
      'https://user@hooks.example.com/x',
      'https://:pw@h.example/x',
    ]) {
      expect(webhookUrlRefusal(url, true)).toMatch(/^The webhook URL must not carry credentials \(user:password@\)/);
    }
  });
});

describe('vetWebhookTarget', () => {
  const resolver =
    (table: Record<string, string[]>): HostResolver =>
    async (host) => {
      const addresses = table[host];
      if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    };
  const resolve = resolver({
    'rebound.test': ['127.0.0.1'],
    'mixed.test': ['93.184.216.34', '10.1.2.3'],
    'public.test': ['93.184.216.34', '2606:4700::1'],
    'empty.test': [],
  });
  const vet = (url: string, allowPrivate = false) => vetWebhookTarget(new URL(url), { allowPrivate, resolve });

  it('refuses a name when any of its addresses is not public', async () => {
    expect(await vet('http://rebound.test/x')).toEqual({
      ok: false,
      error:
        'refused: rebound.test is 127.0.0.1, a loopback address; webhooks may only reach public addresses unless the server runs with --webhook-allow-private',
    });
    expect(await vet('http://mixed.test/x')).toMatchObject({ ok: false, error: expect.stringContaining('10.1.2.3') });
    expect(await vet('http://[::ffff:10.0.0.1]/x')).toMatchObject({
      ok: false,
      error: expect.stringContaining('private'),
    });
  });

  it('returns the first vetted address to connect to', async () => {
    expect(await vet('https://public.test/x')).toEqual({ ok: true, address: { address: '93.184.216.34', family: 4 } });
    expect(await vet('http://rebound.test/x', true)).toEqual({
      ok: true,
      address: { address: '127.0.0.1', family: 4 },
    });
    expect(await vet('http://[::1]:9/x', true)).toEqual({ ok: true, address: { address: '::1', family: 6 } });
  });

  it('fails a name that does not resolve', async () => {
    expect(await vet('http://nowhere.test/x')).toEqual({ ok: false, error: 'cannot resolve nowhere.test (ENOTFOUND)' });
    expect(await vet('http://empty.test/x')).toEqual({ ok: false, error: 'cannot resolve empty.test (no address)' });
  });
});

describe('redactUrlCredentials', () => {
  it('replaces user:password@ and leaves other URLs as stored', () => {
    expect(redactUrlCredentials('https://alice:s3cret@hooks.example.com/x?y=1')).toBe(
      'https://***@hooks.example.com/x?y=1',
    );
    expect(redactUrlCredentials('https://token@hooks.example.com/x')).toBe('https://***@hooks.example.com/x');
    expect(redactUrlCredentials('https://hooks.example.com/x')).toBe('https://hooks.example.com/x');
    expect(redactUrlCredentials('not a url //bob:pw@host/')).toBe('not a url //***@host/');
  });
});
