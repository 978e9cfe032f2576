import { describe, expect, it } from 'vitest';
import { table, terminalText } from './output.js';

describe('terminal output of server- and device-supplied text', () => {
  it('shows every control character as a visible escape', () => {
    expect(terminalText('sw1\u001b[31mred\u001b[0m')).toBe('sw1\\u001b[31mred\\u001b[0m');
    expect(terminalText('nul\u0000 bel\u0007 del\u007f csi\u009b2J')).toBe(
      'nul\\u0000 bel\\u0007 del\\u007f csi\\u009b2J',
    );
    expect(terminalText('title\u001b]0;owned\u0007')).toBe('title\\u001b]0;owned\\u0007');
    expect(terminalText('evil\u202etxt.exe line\u2028sep')).toBe('evil\\u202etxt.exe line\\u2028sep');
    expect(terminalText('two\nlines\r')).toBe('two\\u000alines\\u000d');
  });

  it('keeps what it is told to keep, and leaves printable text alone', () => {
    expect(terminalText('row 1\nrow\u001b 2\n', '\n')).toBe('row 1\nrow\\u001b 2\n');
    expect(terminalText('C9500 32C NW Advantage — Réseau, 日本語')).toBe('C9500 32C NW Advantage — Réseau, 日本語');
  });

  it('escapes table cells, line feeds included, so a cell cannot forge rows', () => {
    expect(table(['HOST', 'N'], [['sw1\nFAKE  ROW', 1]])).toBe('HOST                N\nsw1\\u000aFAKE  ROW  1');
  });
});

describe('JSON output through terminalText', () => {
  it('stays JSON with the same value, C1 controls and bidi overrides escaped too', () => {
    const value = { hostname: 'sw1\u001b[31m', name: 'csi\u009b2J evil\u202etxt', lines: 'a\nb' };
    const json = terminalText(JSON.stringify(value, null, 2), '\n');
    expect(json).not.toMatch(/[^\P{Cc}\n]|\u202e/u); // no control but the line feeds of the layout
    expect(JSON.parse(json)).toEqual(value);
  });
});
