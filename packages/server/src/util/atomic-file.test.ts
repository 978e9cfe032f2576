import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../test-support/temp-dir.js';
import { writeFileAtomic } from './atomic-file.js';

describe('writeFileAtomic', () => {
  const dir = makeTempDir();
  afterAll(() => dir.remove());

  it('writes the content with the mode and leaves no temporary file', () => {
    const path = join(dir.path, 'secret');
    writeFileAtomic(path, 'one');
    expect(readFileSync(path, 'utf8')).toBe('one');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    writeFileAtomic(path, Buffer.from('two'), 0o644);
    expect(readFileSync(path, 'utf8')).toBe('two');
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir.path)).toEqual(['secret']);
  });

  it('replaces a file whose mode was too open', () => {
    const path = join(dir.path, 'open');
    writeFileSync(path, 'old', { mode: 0o666 });
    writeFileAtomic(path, 'new');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('fails without leaving anything behind when the directory is missing', () => {
    expect(() => writeFileAtomic(join(dir.path, 'missing', 'x'), 'data')).toThrow(/ENOENT/);
    expect(readdirSync(dir.path).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
