/**
 * What the text and date fields of device messages may hold: the one definition that the zod
 * schemas (`messages.ts`), their zod-free twins (`wire-checks.ts`), the agent's own checks and
 * the server's admin routes all use. A device's words end up in terminals, spreadsheets and
 * listings, and its dates in `Date` objects: what cannot be shown or counted is refused at the
 * door, with one message naming the field.
 */
import { type Check, integer, string } from './check.js';

/** The earliest date a message may carry: 2000-01-01T00:00:00Z, in ms since the epoch. */
export const MIN_DATE_MS = 946_684_800_000;
/** The latest date a message may carry: 9999-12-31T23:59:59.999Z (the last with a four-digit year). */
export const MAX_DATE_MS = 253_402_300_799_999;
/** How a date out of bounds is described in an error. */
export const DATE_RULE = 'a date from 2000-01-01 to 9999-12-31';

/** The longest entitlement tag. */
export const TAG_MAX = 256;
/**
 * An entitlement tag: printable ASCII letters, digits, spaces and `. , _ - : + / @ ( ) # ~ =`;
 * it starts with a letter or digit and does not end with a space. SPEC §2 shows both forms:
 * `regid.2014-08.com.cisco.CUSP-5,1.0_8f106f12-…` and `C9500 32C NW Advantage`.
 */
export const TAG_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9 ._,:+/@()#~=-]*[A-Za-z0-9._,:+/@()#~=-])?$/;
/** The characters a tag may hold, in words. */
export const TAG_CHARACTERS = 'letters, digits, spaces and . , _ - : + / @ ( ) # ~ =, starting with a letter or digit';
/** How the tag pattern is described in an error. */
export const TAG_RULE = `an entitlement tag: ${TAG_CHARACTERS}`;

/** The largest count of one tag a message may carry (a declared use, a license of a SLAC). */
export const COUNT_MAX = 1_000_000_000;

/** The longest display name. */
export const DISPLAY_NAME_MAX = 256;
/**
 * A display name: any printable Unicode, without control characters (C0, DEL, C1), line or
 * paragraph separators, bidirectional overrides and isolates, or unpaired surrogates.
 */
export const DISPLAY_NAME_PATTERN = /^[^\p{Cc}\p{Cs}\p{Zl}\p{Zp}\u202A-\u202E\u2066-\u2069]*$/u;
/** How the display-name pattern is described in an error. */
export const DISPLAY_NAME_RULE = 'printable text without control characters';

/** The longest host name (RFC 1123). */
export const HOSTNAME_MAX = 253;
/**
 * A host name as RFC 1123 has it: dot-separated labels of 1–63 letters, digits and hyphens,
 * neither starting nor ending with a hyphen; underscores are tolerated (as DNS tolerates them).
 */
export const HOSTNAME_PATTERN =
  /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$/;
/** How the host-name pattern is described in an error. */
export const HOSTNAME_RULE = "a host name: dot-separated labels of letters, digits, '-' and '_'";

/** A PID, SN or software tag: printable ASCII without spaces. */
export const IDENTIFIER_PATTERN = /^[\x21-\x7e]+$/;
/** How the identifier pattern is described in an error. */
export const IDENTIFIER_RULE = 'printable ASCII without spaces';

/** Free ASCII text (a legacy license id, a version): printable ASCII, spaces only between words. */
export const ASCII_TEXT_PATTERN = /^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?$/;
/** How the ASCII-text pattern is described in an error. */
export const ASCII_TEXT_RULE = 'printable ASCII without leading or trailing spaces';

/** A date in ms since the epoch, from 2000-01-01 to 9999-12-31 (zod-free). */
export const checkDateMs: Check<number> = integer({ min: MIN_DATE_MS, max: MAX_DATE_MS, expected: DATE_RULE });

/** An entitlement tag (zod-free). */
export const checkTag: Check<string> = string({ min: 1, max: TAG_MAX, pattern: TAG_PATTERN, patternName: TAG_RULE });

/** A display name of at most `DISPLAY_NAME_MAX` characters, at least `min` (zod-free). */
export function checkDisplayName(min = 0): Check<string> {
  return string({ min, max: DISPLAY_NAME_MAX, pattern: DISPLAY_NAME_PATTERN, patternName: DISPLAY_NAME_RULE });
}

/** A host name (zod-free). */
export const checkHostname: Check<string> = string({
  min: 1,
  max: HOSTNAME_MAX,
  pattern: HOSTNAME_PATTERN,
  patternName: HOSTNAME_RULE,
});

/** A PID, SN or software tag of 1–`max` characters (zod-free). */
export function checkIdentifier(max: number): Check<string> {
  return string({ min: 1, max, pattern: IDENTIFIER_PATTERN, patternName: IDENTIFIER_RULE });
}

/** Printable ASCII text of `min`–`max` characters (zod-free). */
export function checkAsciiText(min: number, max: number): Check<string> {
  return string({ min, max, pattern: ASCII_TEXT_PATTERN, patternName: ASCII_TEXT_RULE });
}
