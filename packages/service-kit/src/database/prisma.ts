import { PrismaPg } from '@prisma/adapter-pg';
import type pg from 'pg';
import { createCountingPool, type SqlStats } from './counting-pool.ts';

export interface Database<Client> {
  prisma: Client;
  pool: pg.Pool;
  stats: SqlStats;
  close(): Promise<void>;
}

interface PrismaLike {
  $disconnect(): Promise<void>;
}

/**
 * Opens a subgraph's own database: Prisma Client over the pg driver adapter (no native
 * engine), on a pool whose statements are counted.
 */
export function openDatabase<Client extends PrismaLike>(
  PrismaClient: new (options: { adapter: PrismaPg }) => Client,
  url: string,
  poolMax: number,
): Database<Client> {
  const { pool, stats } = createCountingPool(url, poolMax);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    prisma,
    pool,
    stats,
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
