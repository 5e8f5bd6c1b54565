// Shared test helpers: uniquely named databases on the real test server, dropped afterwards.
import pg from 'pg';
// Only the tests import test support: @shop/db itself does not depend on it.
import { runDatabaseName, TEST_DATABASE_URL } from '@shop/test-support';
import { dropDatabase } from '../src/ensure-database.ts';
import { withDatabase } from '../src/urls.ts';

/** A URL on the test server for a (not yet created) uniquely named database. */
export function uniqueDatabaseUrl(prefix: string): string {
  return withDatabase(TEST_DATABASE_URL, runDatabaseName(prefix));
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
