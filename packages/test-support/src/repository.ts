import { readFileSync } from 'node:fs';
import { cp, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const file = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));

/** The repository's supergraph config (rover's format): the five subgraphs and their schema files. */
export const SUPERGRAPH_YAML = file('supergraph.yaml');

/**
 * The reference federation benchmark's `TestQuery`, which the bench loads and the budgets, the
 * explain tool and the tests measure. It stays with the bench's other reference files.
 */
export const BENCHMARK_QUERY_FILE = file('tools/bench/reference/query.graphql');
export const BENCHMARK_QUERY = readFileSync(BENCHMARK_QUERY_FILE, 'utf8');

/**
 * supergraph.yaml and the subgraphs' schema files copied into `dir` at the same relative paths,
 * for a test that breaks a schema without touching the repository's. Returns the copy's config.
 */
export async function copySupergraphSources(dir: string): Promise<string> {
  await cp(file('subgraphs'), join(dir, 'subgraphs'), {
    recursive: true,
    filter: async (source) =>
      (await stat(source)).isDirectory() ? !['node_modules', 'generated', 'dist'].includes(basename(source)) : source.endsWith('.graphql'),
  });
  const config = join(dir, 'supergraph.yaml');
  await cp(SUPERGRAPH_YAML, config);
  return config;
}
