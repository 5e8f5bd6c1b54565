import { AsyncResource } from 'node:async_hooks';
import pg from 'pg';
import { sqlStatementStarted } from '@shop/observability';

/** Live counters of a pool's SQL traffic; tests and metrics read them. */
export interface SqlStats {
  /** SQL statements sent for requests since start (BEGIN/COMMIT included): what "SQL per operation" counts. */
  statements: number;
  /** SQL statements sent by the service's own background work (e.g. an outbox sweep), outside any request. */
  backgroundStatements: number;
}

export interface CountingPoolOptions {
  max: number;
  /**
   * The longest a new connection may take to be set up, and a request may wait for a pooled one
   * (node-postgres has one setting for both): what a hung or unreachable server costs a request.
   */
  connectTimeoutMs?: number | undefined;
  /**
   * The server cancels a statement that runs longer (statement_timeout, SQLSTATE 57014), and the
   * driver gives up on a server that does not answer at all shortly after (query_timeout).
   */
  statementTimeoutMs?: number | undefined;
  /**
   * Every error the pool meets: a failed statement, a failed connection attempt, an idle
   * connection the server closed. Without this, pg would throw the last one (an 'error' event
   * nobody listens to) and a database restart would crash the process.
   */
  onError?: ((error: unknown) => void) | undefined;
}

/** How much later than the server's statement timeout the driver stops waiting: the server's cancel (57014) comes first. */
const CLIENT_TIMEOUT_MARGIN_MS = 1000;

/**
 * A pg pool that counts every statement its connections send. Counting at the
 * driver rather than in Prisma catches everything: Prisma queries, raw SQL and
 * transaction control alike, which is what "SQL statements per request" means.
 */
export function createCountingPool(connectionString: string, options: CountingPoolOptions): { pool: pg.Pool; stats: SqlStats } {
  const stats: SqlStats = { statements: 0, backgroundStatements: 0 };
  const { statementTimeoutMs, onError } = options;
  const pool = new pg.Pool({
    connectionString,
    max: options.max,
    idleTimeoutMillis: 30_000,
    ...(options.connectTimeoutMs ? { connectionTimeoutMillis: options.connectTimeoutMs } : {}),
    ...(statementTimeoutMs ? { statement_timeout: statementTimeoutMs, query_timeout: statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS } : {}),
  });
  const failed = (error: unknown) => {
    if (error) onError?.(error);
  };
  pool.on('error', failed);
  // pg-pool hands a connection to a waiting caller from inside whoever released it, so the
  // caller's statements would run in (and be attributed to) another request. Binding the
  // callback to the caller's async context keeps each statement with its own request.
  const connect = pool.connect.bind(pool) as (callback?: (...args: unknown[]) => void) => Promise<unknown> | undefined;
  (pool as unknown as { connect: typeof connect }).connect = (callback) => {
    if (!callback) {
      return connect()!.catch((error: unknown) => {
        failed(error);
        throw error;
      });
    }
    return connect(
      AsyncResource.bind((error: unknown, ...rest: unknown[]) => {
        failed(error);
        return callback(error, ...rest);
      }),
    );
  };
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      // Also attributed to the request being served, for per-operation counts and the call report.
      const done = sqlStatementStarted(statementText(args[0]));
      if (done === undefined) stats.backgroundStatements += 1;
      else stats.statements += 1;
      const finished = (error: unknown) => {
        done?.(Boolean(error));
        failed(error);
      };
      // pg-pool passes a callback; Prisma's transactions use the promise.
      const callback = args.at(-1);
      if (typeof callback === 'function') {
        args[args.length - 1] = (error: unknown, ...rest: unknown[]) => {
          finished(error);
          return (callback as (...a: unknown[]) => unknown)(error, ...rest);
        };
        return query(...args);
      }
      const result = query(...args);
      if (result instanceof Promise) result.then(() => finished(null), finished);
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
