import { describe, expect, it } from 'vitest';
import { csvField, csvText, toCsv } from './csv.js';

describe('CSV (RFC 4180)', () => {
  it('quotes fields with commas, quotes and line breaks, doubling quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvField(3)).toBe('3');
  });

  it('writes a header row and CRLF line ends', () => {
    expect(toCsv(['a', 'b'], [[1, 'x,y']])).toBe('a,b\r\n1,"x,y"\r\n');
  });
});

describe('CSV injection (OWASP)', () => {
  it('gives text cells that a spreadsheet would run as a formula a leading quote', () => {
    expect(csvField('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvField('+1+cmd')).toBe("'+1+cmd");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField('@SUM(A1:A2)')).toBe("'@SUM(A1:A2)");
    expect(csvField('\tcmd')).toBe("'\tcmd");
    expect(csvField('\rcmd')).toBe(`"'\rcmd"`);
  });

  it('leaves numbers, negative ones included, and ordinary text as they are', () => {
    expect(csvField(-2)).toBe('-2');
    expect(csvField(+5)).toBe('5');
    expect(csvField('regid.x')).toBe('regid.x');
    expect(csvField('a=b')).toBe('a=b');
    expect(csvField('C9500 32C NW Advantage')).toBe('C9500 32C NW Advantage');
    expect(toCsv(['tag', 'surplus'], [['=1+1', -2]])).toBe("tag,surplus\r\n'=1+1,-2\r\n");
  });
});

describe('csvText, the fast path for text cells', () => {
  it('writes every text exactly as csvField does', () => {
    const texts = [
      'plain',
      'a,b',
      'say "hi"',
      'two\nlines',
      'cr\r',
      '=1+1',
      '+1',
      '-2',
      '@x',
      '\tcmd',
      '\rcmd',
      'a=b',
      '',
    ];
    for (const text of texts) expect(csvText(text), JSON.stringify(text)).toBe(csvField(text));
    expect(csvText(null)).toBe('');
  });
});
