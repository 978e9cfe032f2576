import { describe, expect, it } from 'vitest';
import { DomainName, defaultDomainFor } from './domain-name.js';

describe('domain names', () => {
  it('makes a default domain from the name', () => {
    expect(defaultDomainFor('Acme Corp')).toBe('acme-corp.example');
    expect(defaultDomainFor('  Société Générale!  ')).toBe('societe-generale.example');
    expect(defaultDomainFor('東京')).toBe('account.example');
    expect(defaultDomainFor('x'.repeat(100))).toBe(`${'x'.repeat(63)}.example`);
    expect(DomainName.safeParse(defaultDomainFor('a-'.repeat(40))).success).toBe(true);
  });

  it('accepts domains and lowercases them; refuses what is not one', () => {
    expect(DomainName.parse(' Example.COM ')).toBe('example.com');
    expect(DomainName.parse('a.b-c.example')).toBe('a.b-c.example');
    for (const bad of ['example', 'ex ample.com', '.com', 'a..b', '-a.com', 'a-.com', 'a.1', `${'a'.repeat(64)}.com`]) {
      expect(DomainName.safeParse(bad).success, bad).toBe(false);
    }
  });
});
