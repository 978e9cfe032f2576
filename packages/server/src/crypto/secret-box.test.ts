import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox, isSealed } from './secret-box.js';

describe('secret box (AES-256-GCM)', () => {
  const box = createSecretBox(randomBytes(32));
  const secret = 'whsec_a-receiver-shared-secret';

  it('seals as v1:<iv>:<tag>:<ciphertext> in base64url, with a fresh IV each time, and opens it', () => {
    const sealed = box.seal(secret);
    expect(sealed).toMatch(/^v1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(secret);
    expect(isSealed(sealed)).toBe(true);
    expect(box.seal(secret)).not.toBe(sealed);
    expect(box.open(sealed)).toBe(secret);
  });

  it('refuses another key, an altered ciphertext or tag, and malformed values', () => {
    const sealed = box.seal(secret);
    const [v, iv, tag, data] = sealed.split(':') as [string, string, string, string];
    const flip = (s: string) => {
      const bytes = Buffer.from(s, 'base64url');
      bytes[0]! ^= 1;
      return bytes.toString('base64url');
    };
    expect(() => createSecretBox(randomBytes(32)).open(sealed)).toThrow(/does not open with this key/);
    expect(() => box.open([v, iv, tag, flip(data)].join(':'))).toThrow(/does not open/);
    expect(() => box.open([v, iv, flip(tag), data].join(':'))).toThrow(/does not open/);
    expect(() => box.open([v, iv, tag.slice(0, 10), data].join(':'))).toThrow(/bad IV or tag length/);
    expect(() => box.open(`v2:${iv}:${tag}:${data}`)).toThrow(/Not a sealed secret/);
    expect(() => box.open(secret)).toThrow(/Not a sealed secret/);
  });

  it('takes only a 32-byte key', () => {
    expect(() => createSecretBox(randomBytes(16))).toThrow(/must be 32 bytes, not 16/);
  });
});
