import { readFileSync } from 'node:fs';
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
