import { startPostgresInstance, type PostgresInstance } from '@shop/test-support';
import { onCleanup } from './cleanup.ts';

/**
 * A PostgreSQL cluster of this run only (test-support's: initdb into a temporary directory, its
 * own free port and socket directory), so that stopping and restarting it under load harms nobody
 * else: the machine's shared server on 5432 is never touched. Removed with the rest of the run,
 * also on Ctrl-C or an error.
 */
export type OwnPostgres = PostgresInstance;

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const postgres = await startPostgresInstance({ prefix: 'shop-chaos-pg' });
  onCleanup('PostgreSQL server', () => postgres.destroy());
  return postgres;
}
