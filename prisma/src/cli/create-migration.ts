// npm run db:migrate:create -- <name> [--subgraph <name>]
//
// Writes prisma/<subgraph>/migrations/<timestamp>_<name>/migration.sql for every subgraph whose
// schema changed since its last migration (or just the one given). Review the SQL before
// committing; hand edits such as CHECK constraints are fine (later diffs never undo them).
import { parseArgs } from 'node:util';
import path from 'node:path';
import { createMigration } from '../create-migration.ts';
import { isSubgraphName, migrationsDir, SUBGRAPHS, type SubgraphName } from '../subgraphs.ts';

const usage = `usage: db:migrate:create <name> [--subgraph ${SUBGRAPHS.join('|')}]`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { subgraph: { type: 'string', short: 's' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const name = positionals[0];
  if (!name || positionals.length > 1) throw new Error(usage);
  if (values.subgraph !== undefined && !isSubgraphName(values.subgraph)) {
    throw new Error(`unknown subgraph "${values.subgraph}"; expected one of ${SUBGRAPHS.join(', ')}`);
  }
  const targets: readonly SubgraphName[] = values.subgraph ? [values.subgraph] : SUBGRAPHS;
  // One timestamp for the whole run, so a change spanning subgraphs has matching folder names.
  const now = new Date();
  for (const subgraph of targets) {
    const result = await createMigration(subgraph, name, { now });
    if (result.created) {
      console.log(`${subgraph}: created ${path.relative(process.cwd(), path.join(migrationsDir(subgraph), result.folder))}`);
    } else {
      console.log(`${subgraph}: no changes`);
    }
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
