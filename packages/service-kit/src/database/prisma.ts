import { PrismaPg } from '@prisma/adapter-pg';
import type pg from 'pg';
import type { Logger } from '@shop/observability';
import { createCountingPool, type SqlStats } from './counting-pool.ts';
import { createDatabaseHealth, type DatabaseHealth } from './health.ts';

export interface Database<Client> {
  prisma: Client;
  pool: pg.Pool;
  stats: SqlStats;
  /** Whether the database is usable now (probed, and told by every failed call). */
  health: DatabaseHealth;
  close(): Promise<void>;
}

interface PrismaLike {
  $disconnect(): Promise<void>;
}

export interface DatabaseOptions {
  /** The subgraph: in log lines and in the messages clients get when its database fails. */
  service: string;
  poolMax: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  probeIntervalMs: number;
  logger?: Logger | undefined;
}

/** What every subgraph database is opened with unless its configuration says otherwise (see subgraphEnv). */
export const DATABASE_DEFAULTS = { poolMax: 10, connectTimeoutMs: 2000, statementTimeoutMs: 5000, probeIntervalMs: 1000 } as const;

/**
 * Opens a subgraph's own database: Prisma Client over the pg driver adapter (no native
 * engine), on a pool whose statements are counted and whose failures tell the health probe.
 */
export function openDatabase<Client extends PrismaLike>(
  PrismaClient: new (options: { adapter: PrismaPg }) => Client,
  url: string,
  options: DatabaseOptions,
): Database<Client> {
  const health = createDatabaseHealth({
    service: options.service,
    url,
    logger: options.logger,
    probeIntervalMs: options.probeIntervalMs,
    connectTimeoutMs: options.connectTimeoutMs,
  });
  const { pool, stats } = createCountingPool(url, {
    max: options.poolMax,
    connectTimeoutMs: options.connectTimeoutMs,
    statementTimeoutMs: options.statementTimeoutMs,
    onError: (error) => health.observe(error),
  });
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    prisma,
    pool,
    stats,
    health,
    async close() {
      await health.close();
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
