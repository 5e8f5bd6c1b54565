import pg from 'pg';

/** Live counters of a pool's SQL traffic; tests and metrics read them. */
export interface SqlStats {
  /** SQL statements sent to the server since start (BEGIN/COMMIT included). */
  statements: number;
}

/**
 * A pg pool that counts every statement its connections send. Counting at the
 * driver rather than in Prisma catches everything: Prisma queries, raw SQL and
 * transaction control alike, which is what "SQL statements per request" means.
 */
export function createCountingPool(connectionString: string, max: number): { pool: pg.Pool; stats: SqlStats } {
  const stats: SqlStats = { statements: 0 };
  const pool = new pg.Pool({ connectionString, max, idleTimeoutMillis: 30_000 });
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      stats.statements += 1;
      return query(...args);
    };
  });
  return { pool, stats };
}
