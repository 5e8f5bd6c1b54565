import { basename, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { EXIT, missingInput, runCli, unavailable, usageError } from '@shop/cli-kit';
import { loadConfig } from '@shop/service-kit';
import { DEFAULT_SUPERGRAPH_PATH } from '@shop/gateway/config';
import {
  addClient,
  apiSchemaFromSupergraph,
  clientNameSchema,
  configuredStore,
  issuesOf,
  manifestNameSchema,
  openPersistedStore,
  PersistedError,
  policySchema,
  publishChecked,
  readManifestFile,
  setClientPolicy,
  storeEnv,
  type PersistedStore,
} from '@shop/gateway/persisted';
import { readCurrentSupergraph, SupergraphConfigError, SupergraphUnavailableError } from '@shop/supergraph-tools';

const USAGE = `Usage:
  npm run pq -- publish <manifest.json> --client <name> [--name <manifestName>]
  npm run pq -- clients add <name> [--policy enforce|log|off] [--rotate-key] [--token-only]
  npm run pq -- clients list
  npm run pq -- clients set-policy <name> <enforce|log|off>

Store: REDIS_URL (and PQ_REDIS_PREFIX) if set, else the directory PERSISTED_DIR (default .data/persisted).
publish validates against SUPERGRAPH_PATH (default gateway/supergraph.graphql), or composes SUPERGRAPH_CONFIG
(default supergraph.yaml) when that file does not exist.`;

const repo = fileURLToPath(new URL('../../../', import.meta.url));

const pqEnv = storeEnv.extend({
  SUPERGRAPH_PATH: z.string().min(1).default(DEFAULT_SUPERGRAPH_PATH),
  SUPERGRAPH_CONFIG: z.string().min(1).default(join(repo, 'supergraph.yaml')),
});

const UsageError = (message: string) => usageError(`${message} (npm run pq -- --help for usage)`);

// npm runs scripts from the package root; paths a person typed are relative to where they typed them.
const fromUser = (path: string) => resolve(process.env.INIT_CWD ?? process.cwd(), path);

function argument<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw UsageError(`${what}: ${issuesOf(result.error).map((i) => i.replace(/^\(root\): /, '')).join('; ')}`);
  return result.data;
}

async function publish(store: PersistedStore, env: z.infer<typeof pqEnv>, positionals: string[], options: { client?: string; name?: string }): Promise<number> {
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) throw UsageError('publish takes one manifest file: publish <manifest.json> --client <name>');
  if (options.client === undefined) throw UsageError('publish needs --client <name>: the registered client the manifest is for');
  const client = argument(clientNameSchema, options.client, '--client');
  const path = fromUser(file);
  const manifestName = argument(manifestNameSchema, options.name ?? basename(path, extname(path)), options.name ? '--name' : 'manifest name (from the file name)');

  const manifest = await readManifestFile(path);
  const supergraph = await readCurrentSupergraph(fromUser(env.SUPERGRAPH_PATH), fromUser(env.SUPERGRAPH_CONFIG));
  const result = await publishChecked(store, apiSchemaFromSupergraph(supergraph.sdl), { client, manifest: manifestName, operations: manifest.operations });
  if (!result.published) {
    console.error(`Refused ${path}: ${result.failures.length} of ${manifest.operations.length} operation(s) are invalid against ${supergraph.source}. Nothing was published.`);
    for (const failure of result.failures) {
      console.error(`  operations[${failure.index}] ${failure.name} (id ${failure.id}):`);
      for (const message of failure.messages) console.error(`      ${message}`);
    }
    return EXIT.failed;
  }
  console.log(`Published manifest "${manifestName}" for client "${client}": ${result.operations} operation(s).`);
  return EXIT.ok;
}

async function clients(store: PersistedStore, positionals: string[], options: { policy?: string; 'rotate-key'?: boolean; 'token-only'?: boolean }): Promise<number> {
  const [action, ...rest] = positionals;
  if (action === 'add') {
    if (rest.length !== 1) throw UsageError('clients add takes one client name');
    const { client, apiKey, rotated } = await addClient(store, {
      name: argument(clientNameSchema, rest[0], 'client name'),
      policy: options.policy === undefined ? undefined : argument(policySchema, options.policy, '--policy'),
      rotateKey: options['rotate-key'],
      tokenOnly: options['token-only'],
    });
    console.log(`${rotated ? 'Updated' : 'Created'} client "${client.name}" (policy ${client.policy}).`);
    if (apiKey) {
      console.log(`API key${rotated ? ' (the previous key no longer works)' : ''}; it is shown only now, the store keeps only its sha256:`);
      console.log(apiKey);
    } else {
      console.log(`No API key: the client is recognised by the client_id claim "${client.name}" of its tokens.`);
    }
    return EXIT.ok;
  }
  if (action === 'list') {
    if (rest.length > 0) throw UsageError('clients list takes no arguments');
    const snapshot = await store.load();
    if (snapshot.clientsByName.size === 0) {
      console.log('No clients yet: npm run pq -- clients add <name>');
      return EXIT.ok;
    }
    const rows = [...snapshot.clientsByName.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((c) => [c.name, c.policy, c.apiKeyHash ? 'yes' : 'no', String(snapshot.operations.get(c.name)?.size ?? 0)]);
    const table = [['NAME', 'POLICY', 'API KEY', 'OPERATIONS'], ...rows];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    for (const row of table) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
    return EXIT.ok;
  }
  if (action === 'set-policy') {
    if (rest.length !== 2) throw UsageError('clients set-policy takes a client name and a policy');
    const client = await setClientPolicy(store, argument(clientNameSchema, rest[0], 'client name'), argument(policySchema, rest[1], 'policy'));
    console.log(`Client "${client.name}" now has policy ${client.policy}.`);
    return EXIT.ok;
  }
  throw UsageError(`unknown clients command ${JSON.stringify(action ?? '')}`);
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      client: { type: 'string' },
      name: { type: 'string' },
      policy: { type: 'string' },
      'rotate-key': { type: 'boolean' },
      'token-only': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...positionals] = parsed.positionals;
  if (parsed.values.help) {
    console.log(USAGE);
    return EXIT.ok;
  }
  if (!command) throw UsageError('expected a command: publish or clients');

  const env = loadConfig(pqEnv, process.env);
  const configured = configuredStore(env);
  const store = openPersistedStore(configured.options);
  try {
    if (command === 'publish') return await publish(store, env, positionals, parsed.values);
    if (command === 'clients') return await clients(store, positionals, parsed.values);
    throw UsageError(`unknown command ${JSON.stringify(command)}`);
  } catch (error) {
    if (error instanceof PersistedError && error.code === 'MANIFEST_UNREADABLE') throw missingInput(error.message.replace(/: ENOENT$/, ': no such file'));
    if (error instanceof PersistedError) {
      console.error(`${error.message}\n(${error.code})`);
      return EXIT.failed;
    }
    if (error instanceof SupergraphUnavailableError || error instanceof SupergraphConfigError) {
      console.error(error.message);
      return EXIT.failed;
    }
    // Redis down or refusing: the operator's problem to fix, not a bug worth a stack trace.
    if (error instanceof Error && /^(MaxRetriesPerRequestError|ReplyError|RedisUnavailableError)$/.test(error.name)) {
      throw unavailable(`the persisted store ${configured.description} failed: ${error.message}`);
    }
    throw error;
  } finally {
    await store.close();
  }
}

await runCli('pq', main, { usage: 'npm run pq -- <publish|clients> ... (npm run pq -- --help for more)' });
