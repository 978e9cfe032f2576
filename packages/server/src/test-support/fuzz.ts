import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.js';

/** One fuzzed request: what it is (for the failure report), where it goes, and its raw body. */
export interface FuzzCase {
  label: string;
  route: string;
  body?: string;
  method?: string;
}

const ERROR_KEYS = new Set(['code', 'message', 'requestId', 'fields']);

/** What is wrong with an answer to a request that must be refused, or undefined when it is a proper refusal. */
export function refusalProblem(status: number, text: string): string | undefined {
  if (status < 400 || status >= 500) return `status ${status}: ${text.slice(0, 200)}`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `status ${status} with a body that is not JSON: ${text.slice(0, 200)}`;
  }
  const b = body as Record<string, unknown> | null;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) return `status ${status}, body not an object`;
  const extra = Object.keys(b).filter((k) => !ERROR_KEYS.has(k));
  if (extra.length > 0) return `status ${status}, unexpected members ${extra.join(', ')}`;
  if (typeof b.code !== 'string' || !/^[A-Z_]+$/.test(b.code)) return `status ${status}, bad code ${String(b.code)}`;
  if (typeof b.message !== 'string' || b.message.length === 0 || b.message.includes('\n')) {
    return `status ${status}, not one message: ${JSON.stringify(b.message)}`;
  }
  if (typeof b.requestId !== 'string' || b.requestId.length === 0) return `status ${status}, no requestId`;
  return undefined;
}

/**
 * Sends `cases` to `baseUrl`, `concurrency` at a time over keep-alive connections, and
 * returns a line for each answer that is not a proper refusal (4xx with the error body), and
 * how many refusals of each code came back.
 */
export async function sendCases(
  baseUrl: string,
  cases: FuzzCase[],
  headers: Record<string, string>,
  concurrency: number,
): Promise<{ wrong: string[]; codes: Record<string, number> }> {
  const wrong: string[] = [];
  const codes: Record<string, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++]!;
      const method = c.method ?? 'POST';
      try {
        const response = await fetch(`${baseUrl}${c.route}`, {
          method,
          headers: { ...headers, ...(c.body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(c.body === undefined ? {} : { body: c.body }),
        });
        const text = await response.text();
        const problem = refusalProblem(response.status, text);
        if (!problem) {
          const code = (JSON.parse(text) as { code: string }).code;
          codes[code] = (codes[code] ?? 0) + 1;
        }
        if (problem) wrong.push(`${c.label} (${method} ${c.route.slice(0, 120)}): ${problem}`);
      } catch (error) {
        wrong.push(`${c.label}: request failed: ${(error as Error).message} ${String((error as Error).cause ?? '')}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { wrong, codes };
}

/**
 * The tables of each database, looked up once: the schema is fixed once the server has started
 * (migrations run before it listens), and PostgreSQL's introspection (every column of every
 * table from the catalogue) costs more than reading this suite's few rows.
 */
const tableNames = new WeakMap<Kysely<Database>, Promise<string[]>>();

/**
 * A {@link snapshotTables} edit that leaves out when API keys were last used: the server writes
 * the uses of earlier admin requests in the background (every 15 s), whatever the fuzzed requests do.
 */
export function ignoreKeyUses(table: string, row: Record<string, unknown>): Record<string, unknown> {
  if (table !== 'api_keys') return row;
  const { last_used_at: _used, ...rest } = row;
  return rest;
}

/**
 * Every row of every table, as one string: what a refused request must not change. Portable
 * (Kysely's introspection and query builder): rows are sorted by their JSON, not by rowid.
 * `edit` leaves out what may change legitimately (a key's last use, say); a row it maps to
 * undefined is left out whole.
 */
export async function snapshotTables(
  db: Kysely<Database>,
  edit: (table: string, row: Record<string, unknown>) => unknown = (_t, r) => r,
): Promise<string> {
  let known = tableNames.get(db);
  if (!known) {
    known = db.introspection.getTables().then((tables) => tables.map((t) => t.name).sort());
    tableNames.set(db, known);
  }
  const names = await known;
  const dump: Record<string, string[]> = {};
  for (const name of names) {
    const rows = (await db
      .selectFrom(name as keyof Database)
      .selectAll()
      .execute()) as Array<Record<string, unknown>>;
    dump[name] = rows
      .map((row) => edit(name, row))
      .filter((row) => row !== undefined)
      .map((row) => JSON.stringify(row))
      .sort();
  }
  return JSON.stringify(dump);
}
