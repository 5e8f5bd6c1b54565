#!/usr/bin/env -S node --import tsx
// shop-db-generate [name...]: this package's bin, so that `npm run db:generate` (also the root
// postinstall, so it must work offline from a fresh clone) and each subgraph's `build` run it by
// name instead of reaching into this package's files.
//
// Runs `prisma generate` for the five schemas, writing each client into
// subgraphs/<name>/src/generated/prisma. Offline notes:
// - Prisma's CLI insists on locating a native schema engine before any command and downloads
//   one if missing, which fails without network. `generate` never runs it, so pointing
//   PRISMA_SCHEMA_ENGINE_BINARY at any existing file satisfies the check (we use this script).
//   Migrations go through the wasm engine instead (see ../engine.ts).
// - The `prisma-client` generator needs no query engine: the client uses @prisma/adapter-pg.
// - Update checks and telemetry are switched off: they would only time out.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRISMA_ROOT, SUBGRAPHS, type SubgraphName } from '../subgraphs.ts';

// The CLI's entry file, run with this Node (no reliance on node_modules/.bin or a shell).
const prismaCli = createRequire(import.meta.url).resolve('prisma/build/index.js');

function generate(name: SubgraphName, env: NodeJS.ProcessEnv): Promise<{ name: SubgraphName; ok: boolean; output: string }> {
  const config = path.join(PRISMA_ROOT, name, 'prisma.config.ts');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [prismaCli, 'generate', '--config', config], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => resolve({ name, ok: false, output: output + String(error) }));
    child.on('close', (code) => resolve({ name, ok: code === 0, output }));
  });
}

async function main(): Promise<void> {
  const started = performance.now();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? fileURLToPath(import.meta.url),
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  };
  // `generate.ts [name...]` generates only those (a subgraph's own build); none means all five.
  const requested = process.argv.slice(2);
  const unknown = requested.filter((name) => !(SUBGRAPHS as readonly string[]).includes(name));
  if (unknown.length) throw new Error(`db:generate: unknown subgraph ${unknown.join(', ')} (expected ${SUBGRAPHS.join(', ')})`);
  const names = requested.length ? (requested as SubgraphName[]) : [...SUBGRAPHS];
  // Independent processes, so run them side by side (~1 s in total instead of ~5 s).
  const results = await Promise.all(names.map((name) => generate(name, env)));
  const failed = results.filter((r) => !r.ok);
  for (const r of failed) console.error(`prisma generate failed for ${r.name}:\n${r.output.trim()}\n`);
  if (failed.length) {
    throw new Error(`db:generate: ${failed.map((r) => r.name).join(', ')} failed (see above)`);
  }
  console.log(`generated Prisma clients for ${names.join(', ')} in ${Math.round(performance.now() - started)} ms`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
