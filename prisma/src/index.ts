// @shop/db: the five subgraph databases as one unit: naming, creation, migrations and seed.
// Subgraphs import their own generated Prisma client; this package never depends on them.
export { SUBGRAPHS, isSubgraphName, mapSubgraphs, migrationsDir, schemaPath, PRISMA_ROOT, type SubgraphName } from './subgraphs.ts';
export { subgraphDatabaseUrls, databaseName, withDatabase, redact } from './urls.ts';
export { ensureDatabase, dropDatabase } from './ensure-database.ts';
export { migrate, type MigrateOptions } from './migrate.ts';
export { createMigration, type CreateMigrationOptions, type CreateMigrationResult } from './create-migration.ts';
export { diffSchemas, type SchemaDiff } from './diff.ts';
export { loadDatabaseEnv, type DatabaseEnv } from './env.ts';
export {
  seed,
  isSeeded,
  seedStatus,
  seedDataset,
  productUpc,
  SEED,
  USER_COUNT,
  PRODUCT_COUNT,
  INVENTORY_COUNT,
  REVIEW_COUNT,
  ORDER_COUNT,
  MAX_LINES_PER_ORDER,
  CATEGORIES,
  WAREHOUSES,
  ORDER_STATUSES,
  type SeedOptions,
  type SeedResult,
  type SeedDataset,
} from './seed/index.ts';

import { ensureDatabase } from './ensure-database.ts';
import { migrate } from './migrate.ts';
import { SUBGRAPHS, mapSubgraphs, type SubgraphName } from './subgraphs.ts';

/**
 * Creates (if needed) and migrates all five databases, in parallel. Returns the migrations
 * applied per subgraph. What `db:migrate`, `db:seed` and the stack launcher all need.
 */
export async function prepareDatabases(
  urls: Record<SubgraphName, string>,
  opts: { createDatabases?: boolean } = {},
): Promise<Record<SubgraphName, string[]>> {
  const applied = await Promise.all(
    SUBGRAPHS.map(async (name) => {
      if (opts.createDatabases ?? true) await ensureDatabase(urls[name]);
      return migrate(name, urls[name]);
    }),
  );
  return mapSubgraphs((_, i) => applied[i]!);
}
