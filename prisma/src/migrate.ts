// Applies a subgraph's pending migrations with Prisma's wasm schema engine: the same engine
// code as `prisma migrate deploy`, so `_prisma_migrations` ends up with the same rows (id,
// sha256 checksum, timestamps, logs, applied_steps_count) and the native CLI can take over.
import pg from 'pg';
import { openSchemaEngine } from './engine.ts';
import { loadMigrationList } from './migrations.ts';
import { migrationsDir, type SubgraphName } from './subgraphs.ts';
import { redact } from './urls.ts';

export interface MigrateOptions {
  /** Defaults to prisma/<name>/migrations. */
  migrationsDir?: string;
  /** Receives the engine's log lines (JSON). */
  log?: (line: string) => void;
}

/**
 * Our own session-level advisory lock, held on a dedicated connection for the whole run, so
 * two processes starting at once (e.g. two subgraph replicas, or a launcher and a test run)
 * take turns: the second one then finds nothing pending. The engine also takes Prisma's lock
 * (72707369) on its own pooled connection; ours uses a different key so the two never wait
 * on each other (see engine.ts for how Prisma's lock is released). Advisory locks are per database, so subgraphs migrate in parallel.
 *
 * Caveat: PGlite has a single backend session shared by every socket connection, where
 * advisory locks are re-entrant and so do not exclude; `inProcess` below still serialises
 * calls within one process, which is how the embedded stack migrates.
 */
const MIGRATE_LOCK_KEY = 0x5309_0db1; // arbitrary, fits in int4

// Serialises migrate() calls for the same URL within this process.
const inProcess = new Map<string, Promise<unknown>>();

/** Applies pending migrations; returns the names applied (empty when up to date). */
export function migrate(name: SubgraphName, url: string, opts: MigrateOptions = {}): Promise<string[]> {
  const previous = inProcess.get(url) ?? Promise.resolve();
  const run = previous.catch(() => {}).then(() => migrateLocked(name, url, opts));
  inProcess.set(url, run);
  void run.finally(() => {
    if (inProcess.get(url) === run) inProcess.delete(url);
  }).catch(() => {});
  return run;
}

async function migrateLocked(name: SubgraphName, url: string, opts: MigrateOptions): Promise<string[]> {
  const migrationsList = await loadMigrationList(opts.migrationsDir ?? migrationsDir(name));
  if (migrationsList.migrationDirectories.length === 0) return [];

  const lock = new pg.Client({ connectionString: url, application_name: `shop-db migrate ${name}` });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK_KEY]);
    const { engine, close } = await openSchemaEngine(url, opts.log ? { log: opts.log } : {});
    try {
      const { appliedMigrationNames } = await engine.applyMigrations({
        migrationsList,
        filters: { externalTables: [], externalEnums: [] },
      });
      return appliedMigrationNames;
    } catch (error) {
      throw new Error(`Migrating ${name} at ${redact(url)} failed: ${(error as Error).message}`, { cause: error });
    } finally {
      await close();
    }
  } finally {
    // Closing the session releases the advisory lock even if the unlock query fails.
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK_KEY]).catch(() => {});
    await lock.end();
  }
}
