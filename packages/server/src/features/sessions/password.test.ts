import { describe, expect, it } from 'vitest';
import { generatePassword, hashPassword, verifyPassword } from './password.js';

const FAST = { N: 1024, r: 8, p: 1 };

describe('passwords', () => {
  it('stores scrypt with its parameters and a fresh salt, and verifies only the right password', async () => {
    const a = await hashPassword('correct horse battery', FAST);
    const b = await hashPassword('correct horse battery', FAST);
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword(a, 'correct horse battery')).toBe(true);
    expect(await verifyPassword(a, 'correct horse batterY')).toBe(false);
    expect(await verifyPassword(a, '')).toBe(false);
  });

  it('generates 24-character passwords that never begin like an option', () => {
    // One in 32 base64url strings begins with '-' or '_': 2,000 draws meet that case many times over.
    for (let i = 0; i < 2000; i++) expect(generatePassword()).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{23}$/);
  });

  it('uses the default parameters, N = 2^15', async () => {
    expect(await hashPassword('x'.repeat(12))).toMatch(/^scrypt\$32768\$8\$1\$/);
  });

  it('refuses a missing, unreadable or tampered hash, and a huge password', async () => {
    const good = await hashPassword('a password of mine', FAST);
    expect(await verifyPassword(null, 'a password of mine')).toBe(false);
    expect(await verifyPassword('plain', 'plain')).toBe(false);
    expect(await verifyPassword(good.replace('$1024$', '$1000$'), 'a password of mine')).toBe(false);
    expect(
      await verifyPassword(
        // The key's first character: its last one carries two padding bits that decoding drops, so
        // 'A' for 'B' there can leave the key unchanged.
        good.replace(/\$(.)([^$]{42})$/, (_, c: string, rest: string) => `$${c === 'A' ? 'B' : 'A'}${rest}`),
        'a password of mine',
      ),
    ).toBe(false);
    expect(await verifyPassword(good, 'x'.repeat(2000))).toBe(false);
  });

  it('verifies a fixed vector (the stored form stays readable)', async () => {
    // scrypt("smartlic", salt = 16 zero bytes, N=1024, r=8, p=1, 32 bytes)
    const stored = 'scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA$Ei1mcSyqyeb1iw4ntbLRNmBs31_UqR3ZmxvBigGcgo8';
    expect(await verifyPassword(stored, 'smartlic')).toBe(true);
  });
});
