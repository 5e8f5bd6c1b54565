import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { badData, exitOnFailure, missingInput } from '@shop/cli-kit';
import { DEFAULT_SUPERGRAPH_PATH } from '@shop/gateway/config';
import { composeSupergraph, CompositionError, writeSupergraphFile } from './compose.ts';
import { checkConfiguredStore } from './published-check.ts';
import { readSupergraphConfig, SupergraphConfigError } from './supergraph-config.ts';

/** `npm run compose [-- --config supergraph.yaml --output gateway/supergraph.graphql --allow-breaking]` */
// A bad flag, a missing file, a bad variable: one line and a sysexits code (@shop/cli-kit), never a stack.
exitOnFailure('compose', 'npm run compose [-- --config supergraph.yaml --output gateway/supergraph.graphql --allow-breaking]');
const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'supergraph.yaml' },
    output: { type: 'string', default: DEFAULT_SUPERGRAPH_PATH },
    /** Write the supergraph even if it breaks published persisted operations. */
    'allow-breaking': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('usage: npm run compose [-- --config supergraph.yaml --output gateway/supergraph.graphql --allow-breaking]');
  process.exit(0);
}

try {
  const config = await readSupergraphConfig(resolve(values.config));
  const result = await composeSupergraph(config);
  if (!result.ok) {
    process.stderr.write(`${new CompositionError(result.errors).message}\n`);
    process.exit(1);
  }
  const check = await checkConfiguredStore(result.supergraphSdl);
  if (check && check.broken.length > 0) {
    process.stderr.write(`The new supergraph breaks ${check.broken.length} published operation(s) in ${check.store}:\n`);
    for (const op of check.broken) {
      process.stderr.write(`  [client ${op.client}${op.manifest ? `, manifest ${op.manifest}` : ''}] ${op.operationName} (${op.operationId}):\n`);
      for (const message of op.messages) process.stderr.write(`      ${message}\n`);
    }
    if (!values['allow-breaking']) {
      process.stderr.write('Not written. Keep the schema compatible, or pass --allow-breaking to write it anyway.\n');
      process.exit(1);
    }
  }
  const output = resolve(values.output);
  await writeSupergraphFile(output, result.supergraphSdl);
  process.stdout.write(`Composed ${config.subgraphs.length} subgraphs into ${output}\n`);
} catch (error) {
  if (error instanceof SupergraphConfigError) {
    const missing = (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
    throw missing ? missingInput(`cannot read ${resolve(values.config)}: no such file (--config names rover's supergraph.yaml)`) : badData(error.message);
  }
  throw error;
}
