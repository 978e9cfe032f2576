import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempFileWriter, tempPathFor, writeFileAtomic, writeFileAtomicSync } from './atomic-file.js';

const dir = mkdtempSync(join(tmpdir(), 'smartlic-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const forms = [
  ['sync', async (path: string, data: string | Uint8Array, mode?: number) => writeFileAtomicSync(path, data, mode)],
  ['async', writeFileAtomic],
] as const;

describe.each(forms)('writeFileAtomic (%s)', (form, write) => {
  const sub = join(dir, form);
  beforeAll(() => mkdirSync(sub));

  it('writes the content with the mode and leaves no temporary file', async () => {
    const path = join(sub, 'secret');
    await write(path, 'one');
    expect(readFileSync(path, 'utf8')).toBe('one');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await write(path, Buffer.from('two'), 0o644);
    expect(readFileSync(path, 'utf8')).toBe('two');
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(readdirSync(sub)).toEqual(['secret']);
  });

  it('replaces a file whose mode was too open', async () => {
    const path = join(sub, 'open');
    writeFileSync(path, 'old', { mode: 0o666 });
    await write(path, 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('fails without leaving anything behind when the directory is missing', async () => {
    await expect(write(join(sub, 'missing', 'x'), 'data')).rejects.toThrow(/ENOENT/);
    expect(readdirSync(sub).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('removes its temporary file and keeps the old content when the rename fails', async () => {
    const target = join(sub, 'a-directory');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), 'x'); // renaming a file over a non-empty directory fails
    await expect(write(target, 'data')).rejects.toThrow();
    expect(readdirSync(sub).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(readdirSync(target)).toEqual(['inside']);
  });
});

describe('temporary file names', () => {
  it('are hidden, beside the target, and name the writer', () => {
    const temp = tempPathFor(join(dir, 'state.json'));
    expect(temp.startsWith(join(dir, '.state.json.'))).toBe(true);
    expect(tempFileWriter(basename(temp))).toBe(process.pid);
    expect(tempPathFor(join(dir, 'state.json'))).not.toBe(temp);
  });

  it('recognise the names earlier agents wrote, and nothing else', () => {
    expect(tempFileWriter('state.json.4242.abcd.tmp')).toBe(4242);
    expect(tempFileWriter('.state.json.17.0a1b2c3d4e5f.tmp')).toBe(17);
    expect(tempFileWriter('state.json')).toBeUndefined();
    expect(tempFileWriter('state.json.tmp')).toBeUndefined();
  });
});
