// Creates a subgraph's database on first use, so `npm run db:migrate` works against a bare
// server. CREATE DATABASE cannot run inside the target database (it does not exist yet), so we
// connect to the server's `postgres` maintenance database instead.
import pg from 'pg';
import { databaseName, redact, withDatabase } from './urls.ts';

/** Postgres error codes two concurrent CREATE DATABASE calls can produce. */
const DUPLICATE_DATABASE = '42P04';
// The loser of a race can also hit the unique index on pg_database before the duplicate check.
const UNIQUE_VIOLATION = '23505';

export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/**
 * Creates the database named in `url` if it is missing. Returns true when this call created it.
 * Safe under concurrent calls from several processes: losing the race is not an error.
 */
export async function ensureDatabase(url: string, opts: { maintenanceDatabase?: string } = {}): Promise<boolean> {
  const name = databaseName(url);
  const client = new pg.Client({ connectionString: withDatabase(url, opts.maintenanceDatabase ?? 'postgres') });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`Cannot connect to ${redact(url)} to create database ${name}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (existing.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
      return true;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === DUPLICATE_DATABASE || code === UNIQUE_VIOLATION) return false;
      throw error;
    }
  } finally {
    await client.end();
  }
}

/** Drops the database named in `url` (tests and `reset` tooling). Terminates its sessions first. */
export async function dropDatabase(url: string, opts: { maintenanceDatabase?: string } = {}): Promise<void> {
  const client = new pg.Client({ connectionString: withDatabase(url, opts.maintenanceDatabase ?? 'postgres') });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(databaseName(url))} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
