// npm run db:migrate
// Creates each subgraph's database if missing and applies pending migrations (wasm engine,
// no network needed). Configuration: DATABASE_URL or <SUBGRAPH>_DATABASE_URL (see env.ts).
import { prepareDatabases } from '../index.ts';
import { loadDatabaseEnv } from '../env.ts';
import { SUBGRAPHS } from '../subgraphs.ts';
import { redact } from '../urls.ts';

async function main(): Promise<void> {
  const { urls } = loadDatabaseEnv();
  const started = performance.now();
  const applied = await prepareDatabases(urls);
  for (const name of SUBGRAPHS) {
    const names = applied[name];
    console.log(`${name} (${redact(urls[name])}): ${names.length ? `applied ${names.join(', ')}` : 'up to date'}`);
  }
  console.log(`done in ${Math.round(performance.now() - started)} ms`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
