// Creates a new migration folder for one subgraph from the difference between its current
// schema.prisma and the schema snapshot of its newest migration (see diff.ts for why).
import { readFile } from 'node:fs/promises';
import { diffSchemas } from './diff.ts';
import { latestSnapshot, migrationTimestamp, slugifyMigrationName, writeMigration } from './migrations.ts';
import { migrationsDir, schemaPath, type SubgraphName } from './subgraphs.ts';

export interface CreateMigrationOptions {
  /** Defaults to prisma/<subgraph>/schema.prisma. */
  schemaFile?: string;
  /** Defaults to prisma/<subgraph>/migrations. */
  migrationsDir?: string;
  /** Clock for the folder's timestamp prefix (tests). */
  now?: Date;
}

export type CreateMigrationResult =
  | { created: true; folder: string; sql: string }
  | { created: false; reason: 'no changes' };

export async function createMigration(
  subgraph: SubgraphName,
  name: string,
  opts: CreateMigrationOptions = {},
): Promise<CreateMigrationResult> {
  const slug = slugifyMigrationName(name);
  const dir = opts.migrationsDir ?? migrationsDir(subgraph);
  const schema = await readFile(opts.schemaFile ?? schemaPath(subgraph), 'utf8');
  const previous = await latestSnapshot(dir);
  const { sql, hasChanges } = await diffSchemas(previous?.schema ?? null, schema);
  if (!hasChanges) return { created: false, reason: 'no changes' };
  const folder = await writeMigration(dir, `${migrationTimestamp(opts.now)}_${slug}`, sql, schema);
  return { created: true, folder, sql };
}
