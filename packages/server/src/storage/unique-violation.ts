/** PostgreSQL's unique_violation, and better-sqlite3's code for a UNIQUE constraint that failed. */
const UNIQUE_VIOLATION_CODES: ReadonlySet<string> = new Set(['23505', 'SQLITE_CONSTRAINT_UNIQUE']);

/** Whether `error` is a unique constraint's refusal, on either engine. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNIQUE_VIOLATION_CODES.has(code);
}

/**
 * Runs a write that a unique constraint guards and answers the domain's own refusal when it
 * fires. A unit that checks for a duplicate before inserting is exact with one writer, but two
 * processes (or two PostgreSQL transactions) can both pass the check; the constraint then
 * refuses the second insert, and the caller hears the same error as when the check had
 * caught it (`ALREADY_REGISTERED`, not a generic failure). Other errors pass through.
 */
export async function refuseDuplicate<T>(write: Promise<T>, refusal: () => Error): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const mapped = refusal();
    mapped.cause ??= error;
    throw mapped;
  }
}
