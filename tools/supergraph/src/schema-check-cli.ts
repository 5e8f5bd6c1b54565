import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SUPERGRAPH_PATH } from '@shop/gateway/config';
import { ConfigError } from '@shop/service-kit';
import { composeSupergraph, formatCompositionErrors } from './compose.ts';
import { baseFromFile, baseFromGitRef, CheckInputError, type BaseSupergraph } from './schema-check/base.ts';
import { checkSchemaChange } from './schema-check/check.ts';
import { readClientOperations, SourceUnavailableError } from './schema-check/client-operations.ts';
import { describeOperation, formatReport } from './schema-check/report.ts';
import { readSupergraphConfig, SupergraphConfigError } from './supergraph-config.ts';

const USAGE = 'usage: npm run schema:check -- [--config supergraph.yaml] [--base <supergraph file> | --base-ref <git ref>] [--no-traffic] [--allow-breaking]';

/** sysexits(3): what a script calling this can tell apart. */
const EXIT = { breaking: 1, usage: 64, noInput: 66, unavailable: 69, config: 78 } as const;

function fail(message: string, code: number): never {
  process.stderr.write(`schema:check: ${message}\n`);
  process.exit(code);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      config: { type: 'string', default: 'supergraph.yaml' },
      /** A supergraph file to compare with (default: the gateway's, else the subgraphs at HEAD). */
      base: { type: 'string' },
      /** Compose the subgraphs as they are at this git ref and compare with that (CI: the merge base with main). */
      'base-ref': { type: 'string' },
      /** Only published manifests, not recorded traffic. */
      'no-traffic': { type: 'boolean', default: false },
      /** Exit 0 even when a change breaks a client operation (everything is still printed). */
      'allow-breaking': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  }));
} catch (error) {
  fail(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`, EXIT.usage);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (values.base && values['base-ref']) fail(`pass --base or --base-ref, not both\n${USAGE}`, EXIT.usage);

try {
  const configPath = resolve(values.config);
  const config = await readSupergraphConfig(configPath);
  const composed = await composeSupergraph(config);
  if (!composed.ok) fail(`the working tree's subgraphs do not compose:\n${formatCompositionErrors(composed.errors)}`, EXIT.breaking);

  let base: BaseSupergraph;
  if (values['base-ref']) base = await baseFromGitRef(values['base-ref'], configPath);
  else if (values.base) base = await baseFromFile(resolve(values.base));
  else if (existsSync(DEFAULT_SUPERGRAPH_PATH)) base = await baseFromFile(DEFAULT_SUPERGRAPH_PATH);
  else base = await baseFromGitRef('HEAD', configPath);

  const { operations, sources } = await readClientOperations(process.env, { traffic: !values['no-traffic'] });
  const result = await checkSchemaChange(base.sdl, composed.supergraphSdl, operations);
  process.stdout.write(
    formatReport(result, [
      `Compared the working tree's subgraphs (${values.config}) with ${base.description}.`,
      `Client operations: ${sources.join('; ')}.`,
    ]),
  );

  const unused = result.changes.filter((c) => c.level === 'breaking' && c.usedBy.length === 0).length;
  if (result.broken.length === 0) {
    process.stdout.write(unused > 0 ? `\nOK: ${unused} breaking change(s), but no client operation uses what they change.\n` : '\nOK: no client operation breaks.\n');
    process.exit(0);
  }
  const summary = result.broken.map((b) => `  ${describeOperation(b.operation)}`).join('\n');
  if (values['allow-breaking']) {
    process.stdout.write(`\n--allow-breaking: passing although ${result.broken.length} client operation(s) break:\n${summary}\n`);
    process.exit(0);
  }
  process.stderr.write(
    `\nFAILED: ${result.broken.length} client operation(s) break:\n${summary}\nKeep the old field beside the new one (deprecate it with @deprecated) until these clients moved, or pass --allow-breaking.\n`,
  );
  process.exit(EXIT.breaking);
} catch (error) {
  if (error instanceof CheckInputError) fail(error.message, error.exitCode);
  if (error instanceof SupergraphConfigError) fail(error.message, EXIT.noInput);
  if (error instanceof ConfigError) fail(error.message, EXIT.config);
  if (error instanceof SourceUnavailableError) fail(error.message, EXIT.unavailable);
  fail(`unexpected error: ${error instanceof Error ? error.message : String(error)}`, 70);
}
