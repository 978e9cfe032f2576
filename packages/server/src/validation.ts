import { DateMs, DisplayName, EntitlementTag, SmartlicError } from '@smartlic/protocol';
import { z } from 'zod';

/** Per-field messages of a zod error, keyed by dotted path (`_` for the value itself). */
export function issuesToFields(issues: readonly z.core.$ZodIssue[], prefix = ''): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const issue of issues) {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.') || '_';
    const list = fields[path] ?? [];
    list.push(issue.message);
    fields[path] = list;
  }
  return fields;
}

/** One readable sentence out of per-field messages. */
export function summarizeFields(fields: Record<string, string[]>): string {
  const entries = Object.entries(fields);
  const shown = entries.slice(0, 3).map(([path, messages]) => (path === '_' ? messages[0] : `${path}: ${messages[0]}`));
  const more = entries.length > 3 ? ` (and ${entries.length - 3} more)` : '';
  return `${shown.join('; ')}${more}`;
}

/**
 * Parses untrusted input with `schema`; on failure throws `BAD_REQUEST` whose `fields`
 * name each offending field and whose message summarises them.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw badRequest(issuesToFields(result.error.issues, prefix));
}

/** A `BAD_REQUEST` error carrying per-field messages. */
export function badRequest(fields: Record<string, string[]>): SmartlicError {
  return new SmartlicError('BAD_REQUEST', {
    message: `The request is not valid: ${summarizeFields(fields)}`,
    context: { fields },
  });
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * An ISO-8601 date (`2027-01-31`) or date-time (`2027-01-31T12:00:00Z`) → ms since the epoch (UTC
 * when no zone is given), within the bounds every date of the device protocol has (`DateMs`).
 */
export const IsoDate = z
  .string()
  .trim()
  .refine((v) => ISO_DATE.test(v) && isCalendarDate(v) && !Number.isNaN(parseIsoDate(v)), {
    message: 'must be an ISO-8601 date such as 2027-01-31 or 2027-01-31T12:00:00Z',
  })
  .transform(parseIsoDate)
  .pipe(DateMs);

/** An entitlement tag given to an admin route: trimmed, then held to the device protocol's rule (`EntitlementTag`). */
export const TagInput = z.string().trim().pipe(EntitlementTag);

/** A display name given to an admin route: trimmed, not empty, printable (`DisplayName`). */
export const NameInput = z.string().trim().pipe(DisplayName.min(1, 'must not be empty'));

/** Whether the date part names a real day (JavaScript would read 2027-02-30 as March 2). */
function isCalendarDate(value: string): boolean {
  const [year, month, day] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function parseIsoDate(value: string): number {
  const normalized = value.replace(' ', 'T');
  // A date-time without a zone is read as UTC, as a date alone is.
  return Date.parse(
    /T.*(Z|[+-]\d{2}:?\d{2})$/i.test(normalized) || !normalized.includes('T') ? normalized : `${normalized}Z`,
  );
}
