// Bulk inserts with plain `pg`: one `INSERT ... SELECT * FROM unnest($1::type[], ...)` per
// batch, i.e. one parameter per column instead of one per value. That keeps each batch a
// single short statement (no 65,535-parameter limit, no giant SQL text to parse), which is
// what makes seeding fast, especially on PGlite where every round trip is expensive.
import type pg from 'pg';
import { quoteIdent } from '../ensure-database.ts';

export interface Column<Row> {
  name: string;
  /** Postgres element type for the array cast, e.g. `int4`, `text`, `timestamp(3)`. */
  type: string;
  value: (row: Row) => unknown;
}

const BATCH_SIZE = 5_000;

/** `timestamp(3) without time zone` as Prisma stores it: the UTC wall-clock time. */
export function utcTimestamp(date: Date): string {
  return date.toISOString().slice(0, 23).replace('T', ' ');
}

export async function insertRows<Row>(
  client: pg.ClientBase,
  table: string,
  columns: readonly Column<Row>[],
  rows: readonly Row[],
): Promise<void> {
  const names = columns.map((c) => quoteIdent(c.name)).join(', ');
  const arrays = columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ');
  const sql = `INSERT INTO ${quoteIdent(table)} (${names}) SELECT * FROM unnest(${arrays})`;
  for (let start = 0; start < rows.length; start += BATCH_SIZE) {
    const batch = rows.slice(start, start + BATCH_SIZE);
    await client.query(sql, columns.map((c) => batch.map(c.value)));
  }
}

/**
 * Moves a serial column's sequence past the highest id, since the seed inserts explicit ids
 * (so they line up across databases) and the sequence would otherwise hand out id 1 again.
 */
export async function syncSequence(client: pg.ClientBase, table: string, column = 'id'): Promise<void> {
  await client.query(
    `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX(${quoteIdent(column)}) FROM ${quoteIdent(table)}), 0) + 1, false)`,
    [table, column],
  );
}
