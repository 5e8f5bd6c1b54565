import { randomBytes } from 'node:crypto';

/** The PostgreSQL server of a developer's machine and CI (user postgres, trust auth): every tool's default. */
export const LOCAL_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const LOCAL_REDIS_URL = 'redis://127.0.0.1:6379';

/** The real servers the integration tests use; CI starts them (see .ci/run). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? LOCAL_POSTGRES_URL;
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? LOCAL_REDIS_URL;

/**
 * A database name (or prefix of the five subgraph databases) that no other run, parallel test
 * worker or developer on the same server uses: `<prefix>_<pid>_<random>`.
 */
export function runDatabaseName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}
