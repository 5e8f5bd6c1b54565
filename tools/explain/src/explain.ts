/**
 * `npm run explain -- <file.graphql | persisted id> [--variables '{"a":1}'] [--url http://localhost:4000/graphql]`
 * Runs one operation against the running (development) stack and prints its query plan and a
 * waterfall of every internal call it made: subgraph fetches, DataLoader batches, SQL statements.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { formatCallReport } from '@shop/observability';
import { env, loadConfig } from '@shop/service-kit';
import { EXIT, missingInput, parseJson, runCli, unavailable, usageError } from '@shop/cli-kit';
import { runWithCallReport } from './call-report-client.ts';

const USAGE = 'npm run explain -- <file.graphql | persisted query sha256> [--variables JSON] [--operation-name NAME] [--token JWT] [--url URL] [--json]';

await runCli('explain', async (argv) => {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      variables: { type: 'string' },
      url: { type: 'string' },
      'operation-name': { type: 'string' },
      json: { type: 'boolean' },
      /** A bearer token (e.g. from `npm run token`), for operations that need a signed-in user such as placeOrder. */
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(`usage: ${USAGE}`);
    return EXIT.ok;
  }
  const config = loadConfig(z.object({ GATEWAY_URL: env.httpUrl().default('http://localhost:4000/graphql') }));
  const [target, ...extra] = positionals;
  if (!target || extra.length > 0) throw usageError(`expected one operation file or persisted query id; usage: ${USAGE}`);
  const url = values.url ?? config.GATEWAY_URL;
  if (!/^https?:\/\//.test(url) || !URL.canParse(url)) throw usageError(`--url: expected an http(s) URL (got ${JSON.stringify(url)})`);
  const variables = values.variables === undefined ? undefined : parseJson(values.variables, '--variables');
  if (variables !== undefined && (typeof variables !== 'object' || variables === null || Array.isArray(variables))) {
    throw usageError('--variables: expected a JSON object, e.g. --variables \'{"upc":"1"}\'');
  }

  const persistedId = /^[0-9a-f]{64}$/i.test(target) ? target : undefined;
  // npm runs scripts from the package root; a path a person typed is relative to where they typed it.
  const path = resolve(process.env.INIT_CWD ?? process.cwd(), target);
  const document = persistedId ? null : await readFile(path, 'utf8').catch(() => {
    throw missingInput(`cannot read ${path}: no such file (give an operation file, or a persisted query's sha256)`);
  });
  const result = await runWithCallReport(url, {
    document,
    persistedId,
    operationName: values['operation-name'],
    variables: variables as Record<string, unknown> | undefined,
  }, values.token ? { authorization: `Bearer ${values.token}` } : {}).catch((error: unknown) => {
    if (error instanceof Error && error.message === 'fetch failed') {
      throw unavailable(`cannot reach the gateway at ${url}: is it running? Start it with npm start, or set GATEWAY_URL / --url.`);
    }
    throw error;
  });
  for (const error of result.errors) console.error(`error: ${error.message}`);
  if (!result.report) {
    console.error(`No call report in the response (HTTP ${result.status}). Call reports come only from a gateway not in production.`);
    return EXIT.failed;
  }
  console.log(values.json ? JSON.stringify(result.report, null, 2) : formatCallReport(result.report));
  return result.errors.length ? EXIT.failed : EXIT.ok;
}, { usage: USAGE });
