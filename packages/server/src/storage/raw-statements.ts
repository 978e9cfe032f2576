import { CompiledQuery, type Kysely } from 'kysely';
import { engineOf } from './database.js';
import { placeholders } from './device-statements.js';
import type { Database } from './schema.js';

// Statements of many rows (a satellite's sync writes 100,000 instances in chunks of hundreds)
// written as text with `?` marks: the query builder's tree of a 500-row statement costs more to
// build and compile than the database's work on it. Portable SQL only, as everywhere.

/** `(?, ?, …)`: one tuple of `n` marks. */
export function marks(n: number): string {
  return `(${placeholders(n, () => '?')})`;
}

/** `(?, …), (?, …), …`: `rows` tuples of `width` marks, for a multi-row `values`. */
export function tuples(rows: number, width: number): string {
  return new Array(rows).fill(marks(width)).join(', ');
}

/** Runs `text` (its parameters marked `?`, numbered `$1…` for PostgreSQL) with `parameters`; returns its rows. */
export async function runStatement<R>(
  db: Kysely<Database>,
  text: string,
  parameters: readonly unknown[],
): Promise<R[]> {
  let n = 0;
  const final = engineOf(db) === 'postgres' ? text.replace(/\?/g, () => `$${++n}`) : text;
  return (await db.executeQuery<R>(CompiledQuery.raw(final, [...parameters]))).rows;
}
