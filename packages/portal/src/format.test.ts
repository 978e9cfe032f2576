import { describe, expect, it } from 'vitest';
import { responseFileName, syncFileText } from './format.js';

describe('sync file names and text', () => {
  it('names the response like the request', () => {
    expect(responseFileName('license-sync-request-site-sat_20261207-3.yml', 'site-sat', 3)).toBe(
      'license-sync-response-site-sat_20261207-3.yml',
    );
  });

  it('names a response from its satellite and sequence when the request was renamed', () => {
    expect(responseFileName('from-the-usb-stick.yml', 'site sat/2', 4)).toBe('license-sync-response-site-sat-2-4.yml');
    expect(responseFileName('license-sync-request-.yml', 'a', 1)).toBe('license-sync-response-a-1.yml');
  });

  it('writes what the CLI writes: indented JSON ending in a newline', () => {
    expect(syncFileText({ kind: 'x', payload: { n: 1 } })).toBe('{\n "kind": "x",\n "payload": {\n  "n": 1\n }\n}\n');
  });
});
