// Shared test helpers: uniquely named databases on the real test server, dropped afterwards.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { dropDatabase } from '../src/ensure-database.ts';
import { withDatabase } from '../src/urls.ts';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A database name no other test run (or parallel worker) will use. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** A URL on the test server for a (not yet created) uniquely named database. */
export function uniqueDatabaseUrl(prefix: string): string {
  return withDatabase(TEST_DATABASE_URL, uniqueName(prefix));
}

/** Drops every database in `urls` (ignores ones that were never created). */
export async function dropAll(urls: Iterable<string>): Promise<void> {
  await Promise.all([...urls].map((url) => dropDatabase(url)));
}

/** Runs one statement on its own connection and returns the rows. */
export async function queryRows<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
