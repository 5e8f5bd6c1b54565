/**
 * `npm run schema -w @shop/example-client [-- --supergraph <file>] [--output <file>]`: writes the
 * API schema clients code against (the supergraph without its federation machinery or
 * @inaccessible elements) to schema.graphql, for GraphQL Code Generator.
 *
 * Without --supergraph it composes supergraph.yaml from the working tree's subgraph schemas, so a
 * schema change shows in the example's types before anything is deployed; with it, any composed
 * supergraph file (gateway/supergraph.graphql, or the one your environment serves).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { printSchema } from 'graphql';
import { apiSchemaFromSupergraph } from '@shop/gateway/persisted';
import { composeSupergraph, CompositionError, readSupergraphConfig } from '@shop/supergraph-tools';

const SUPERGRAPH_YAML = fileURLToPath(new URL('../../../supergraph.yaml', import.meta.url));
const DEFAULT_OUTPUT = fileURLToPath(new URL('../schema.graphql', import.meta.url));

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

// `npm run -w` runs in this package's directory: paths a person types are relative to where they typed them.
const here = process.env.INIT_CWD ?? process.cwd();
let values: { supergraph?: string | undefined; output: string };
try {
  const parsed = parseArgs({ options: { supergraph: { type: 'string' }, output: { type: 'string' } } }).values;
  values = { supergraph: parsed.supergraph && resolve(here, parsed.supergraph), output: parsed.output ? resolve(here, parsed.output) : DEFAULT_OUTPUT };
} catch (error) {
  fail(`${(error as Error).message}. Usage: npm run schema -w @shop/example-client -- [--supergraph <file>] [--output <file>]`);
}

async function supergraphSdl(): Promise<string> {
  if (values.supergraph) {
    return readFile(values.supergraph, 'utf8').catch((error: NodeJS.ErrnoException) =>
      fail(`Cannot read the supergraph ${values.supergraph} (${error.code ?? error.message}); npm run compose writes gateway/supergraph.graphql.`),
    );
  }
  const result = await composeSupergraph(await readSupergraphConfig(SUPERGRAPH_YAML));
  if (!result.ok) fail(new CompositionError(result.errors).message);
  return result.supergraphSdl;
}

try {
  const schema = apiSchemaFromSupergraph(await supergraphSdl());
  await writeFile(values.output, printSchema(schema) + '\n');
  process.stdout.write(`wrote the API schema to ${values.output}\n`);
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
