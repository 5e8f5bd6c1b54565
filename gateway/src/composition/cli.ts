import { writeFile, rename } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SUPERGRAPH_PATH } from '../config.ts';
import { composeSupergraph } from './compose.ts';
import { readSupergraphConfig, SupergraphConfigError } from './supergraph-config.ts';

/** `npm run compose [-- --config supergraph.yaml --output gateway/supergraph.graphql]` */
const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'supergraph.yaml' },
    output: { type: 'string', default: DEFAULT_SUPERGRAPH_PATH },
  },
});

try {
  const config = await readSupergraphConfig(resolve(values.config));
  const result = await composeSupergraph(config);
  if (!result.ok) {
    process.stderr.write(`Composition failed with ${result.errors.length} error(s):\n`);
    for (const error of result.errors) {
      const where = error.subgraphs.length > 0 ? error.subgraphs.join(', ') : 'supergraph';
      process.stderr.write(`  [${where}] ${error.code}: ${error.message}\n`);
    }
    process.exit(1);
  }
  // Write then rename, so a gateway polling the file never reads half of it.
  const output = resolve(values.output);
  await writeFile(`${output}.tmp`, result.supergraphSdl);
  await rename(`${output}.tmp`, output);
  process.stdout.write(`Composed ${config.subgraphs.length} subgraphs into ${output}\n`);
} catch (error) {
  if (error instanceof SupergraphConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
