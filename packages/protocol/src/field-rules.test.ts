import { describe, expect, it } from 'vitest';
import { type Check, parseWith } from './check.js';
import {
  checkDateMs,
  checkDisplayName,
  checkHostname,
  checkIdentifier,
  checkTag,
  MAX_DATE_MS,
  MIN_DATE_MS,
} from './field-rules.js';
import { DateMs, DisplayName, EntitlementTag, Hostname, Udi } from './messages.js';

interface SafeParser {
  safeParse(value: unknown): { success: boolean };
}

/** Both the zod schema and its zod-free twin accept exactly `good` and refuse exactly `bad`. */
function expectRule(zod: SafeParser, check: Check<unknown>, good: unknown[], bad: unknown[]): void {
  for (const value of good) {
    expect(zod.safeParse(value).success, `zod accepts ${JSON.stringify(value)}`).toBe(true);
    expect(parseWith(check, value).ok, `check accepts ${JSON.stringify(value)}`).toBe(true);
  }
  for (const value of bad) {
    expect(zod.safeParse(value).success, `zod refuses ${JSON.stringify(value)}`).toBe(false);
    expect(parseWith(check, value).ok, `check refuses ${JSON.stringify(value)}`).toBe(false);
  }
}

describe('field rules of device messages', () => {
  it('dates: safe integers from 2000-01-01 to 9999-12-31, all of which Date can show', () => {
    expect(new Date(MIN_DATE_MS).toISOString()).toBe('2000-01-01T00:00:00.000Z');
    expect(new Date(MAX_DATE_MS).toISOString()).toBe('9999-12-31T23:59:59.999Z');
    expectRule(
      DateMs,
      checkDateMs,
      [MIN_DATE_MS, Date.UTC(2026, 0, 1), MAX_DATE_MS],
      [
        0,
        MIN_DATE_MS - 1,
        MAX_DATE_MS + 1,
        8_640_000_000_000_001,
        Number.MAX_SAFE_INTEGER,
        1.5e12 + 0.5,
        '1767225600000',
      ],
    );
    expect(parseWith(checkDateMs, 8_640_000_000_000_001)).toEqual({
      ok: false,
      problem: 'value: expected a date from 2000-01-01 to 9999-12-31',
    });
  });

  it('entitlement tags: the SPEC forms and every tag of the tests; no controls, formulas or outer spaces', () => {
    expectRule(
      EntitlementTag,
      checkTag,
      [
        'A',
        'regid.2014-08.com.cisco.CUSP-5,1.0_8f106f12-4d11-44b7-8f36-f7aeaee3dfaa',
        'regid.2016-07.com.cisco.EXP-RMS,1.0',
        'C9500 32C NW Advantage',
        'regid.2026-01.com.example.A_1.0',
        'vendor:feature/1+2@site(x)#3~=4',
        'x'.repeat(256),
      ],
      [
        '',
        'x'.repeat(257),
        'regid.x\u0000',
        'sw\u001b[31mred',
        'tab\tseparated',
        'two\nlines',
        ' leading',
        'trailing ',
        '=HYPERLINK("http://x","y")',
        '+1',
        '-1',
        '@SUM(A1)',
        'quote"d',
        'back\\slash',
        'é',
      ],
    );
  });

  it('display names: printable Unicode without controls, separators or bidi overrides', () => {
    expectRule(
      DisplayName,
      checkDisplayName(),
      ['', 'C9500 Network Advantage', 'Réseau « avancé » 1.0', '日本語', 'x'.repeat(256)],
      [
        'x'.repeat(257),
        'red\u001b[31m',
        'nul\u0000',
        'del\u007f',
        'c1\u009b31m',
        'line\u2028sep',
        'evil\u202etxt.exe',
        'lone\ud800',
      ],
    );
  });

  it('host names: RFC 1123 labels, underscores tolerated, at most 253 characters', () => {
    const label = 'a'.repeat(63);
    expectRule(
      Hostname,
      checkHostname,
      ['sw1', 'core-sw1.lab_2.example.com', 'elsewhere.example', '1-2', `${label}.${label}.${label}.${'b'.repeat(61)}`],
      [
        '',
        'sw 1',
        'sw1\u001b[31m',
        '-sw1',
        'sw1-',
        'sw1.',
        '.sw1',
        'a..b',
        'a'.repeat(64),
        `${label}.${label}.${label}.${'b'.repeat(62)}`,
        'sw1:8080',
        'é.example',
      ],
    );
  });

  it('PIDs and SNs: printable ASCII without spaces', () => {
    expectRule(
      Udi.shape.sn,
      checkIdentifier(64),
      ['FCW2134L0RN', 'C9300-24UX', 'WS-C3850-24T', 'B000001', 'x'.repeat(64)],
      ['', 'FCW 2134', 'sn\u0000', 'sn\u001b', 'é', 'x'.repeat(65)],
    );
  });
});
