// npm run db:seed [-- --reset]
// Migrates, then loads the deterministic seed data set into the five databases. Without
// --reset a database that already holds the seed is left alone; --reset truncates first.
import { parseArgs } from 'node:util';
import { prepareDatabases } from '../index.ts';
import { loadDatabaseEnv } from '../env.ts';
import { seed } from '../seed/index.ts';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { reset: { type: 'boolean', default: false } } });
  const { urls } = loadDatabaseEnv();
  await prepareDatabases(urls);
  const result = await seed(urls, { reset: values.reset });
  if (result.skipped.length) console.log(`already seeded (use --reset to reseed): ${result.skipped.join(', ')}`);
  for (const [table, count] of Object.entries(result.counts)) console.log(`${table}: ${count}`);
  console.log(`seeded ${result.seeded.length ? result.seeded.join(', ') : 'nothing'} in ${result.ms} ms`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
