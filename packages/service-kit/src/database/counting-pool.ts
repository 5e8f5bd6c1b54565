import { AsyncResource } from 'node:async_hooks';
import pg from 'pg';
import { sqlStatementStarted } from '@shop/observability';

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
  // pg-pool hands a connection to a waiting caller from inside whoever released it, so the
  // caller's statements would run in (and be attributed to) another request. Binding the
  // callback to the caller's async context keeps each statement with its own request.
  const connect = pool.connect.bind(pool) as (callback?: (...args: unknown[]) => void) => unknown;
  (pool as unknown as { connect: typeof connect }).connect = (callback) =>
    callback ? connect(AsyncResource.bind(callback)) : connect();
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      stats.statements += 1;
      // Also attributed to the request being served, for per-operation counts and the call report.
      const done = sqlStatementStarted(statementText(args[0]));
      if (!done) return query(...args);
      // pg-pool passes a callback; Prisma's transactions use the promise.
      const callback = args.at(-1);
      if (typeof callback === 'function') {
        args[args.length - 1] = (error: unknown, ...rest: unknown[]) => {
          done(Boolean(error));
          return (callback as (...a: unknown[]) => unknown)(error, ...rest);
        };
        return query(...args);
      }
      const result = query(...args);
      if (result instanceof Promise) result.then(() => done(false), () => done(true));
      return result;
    };
  });
  return { pool, stats };
}

function statementText(query: unknown): string {
  if (typeof query === 'string') return query;
  const text = (query as { text?: unknown } | null)?.text;
  return typeof text === 'string' ? text : '(query)';
}
