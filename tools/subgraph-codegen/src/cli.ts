#!/usr/bin/env -S node --import tsx
// shop-subgraph-codegen [--all | <subgraph package dir>...]
//
// Writes each subgraph's src/generated/resolvers.ts. With no argument, the subgraph in the
// current directory (what a subgraph's `build` script runs); with --all, every subgraph of
// @shop/db's list (what `npm run db:generate` and so the root postinstall run). Reads only local
// files, so it works offline.
import { createRequire } from 'node:module';
import path from 'node:path';
import { SUBGRAPHS } from '@shop/db';
import { generateResolverTypes } from './index.ts';

/** A subgraph's package directory, found the way Node finds the package (wherever the repo is). */
function packageDirOf(name: string): string {
  const entry = createRequire(import.meta.url).resolve(`@shop/subgraph-${name}`);
  return path.dirname(path.dirname(entry));
}

async function main(args: string[]): Promise<void> {
  const started = performance.now();
  const dirs = args.includes('--all') ? SUBGRAPHS.map(packageDirOf) : args.length > 0 ? args.map((dir) => path.resolve(dir)) : [process.cwd()];
  const results = await Promise.allSettled(dirs.map((dir) => generateResolverTypes(dir)));
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  for (const failure of failures) process.stderr.write(`${failure instanceof Error ? failure.message : String(failure)}\n`);
  if (failures.length > 0) {
    process.exitCode = 1;
    return;
  }
  const names = dirs.map((dir) => path.basename(dir)).join(', ');
  process.stdout.write(`generated resolver types for ${names} in ${Math.round(performance.now() - started)} ms\n`);
}

await main(process.argv.slice(2));
