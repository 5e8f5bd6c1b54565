/**
 * `npm run explain -- <file.graphql | persisted id> [--variables '{"a":1}'] [--url http://localhost:4000/graphql]`
 * Runs one operation against the running (development) stack and prints its query plan and a
 * waterfall of every internal call it made: subgraph fetches, DataLoader batches, SQL statements.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { formatCallReport } from '@shop/observability';
import { env, loadConfig } from '@shop/service-kit';
import { runWithCallReport } from './call-report-client.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { variables: { type: 'string' }, url: { type: 'string' }, 'operation-name': { type: 'string' }, json: { type: 'boolean' } },
});
const config = loadConfig(z.object({ GATEWAY_URL: env.httpUrl().default('http://localhost:4000/graphql') }));
const target = positionals[0];
if (!target) {
  console.error('usage: npm run explain -- <file.graphql | persisted query sha256> [--variables JSON] [--url URL] [--json]');
  process.exit(2);
}
const persistedId = /^[0-9a-f]{64}$/i.test(target) ? target : undefined;
const document = persistedId ? null : await readFile(target, 'utf8');
const result = await runWithCallReport(values.url ?? config.GATEWAY_URL, {
  document,
  persistedId,
  operationName: values['operation-name'],
  variables: values.variables ? (JSON.parse(values.variables) as Record<string, unknown>) : undefined,
});
for (const error of result.errors) console.error(`error: ${error.message}`);
if (!result.report) {
  console.error(`No call report in the response (HTTP ${result.status}). Call reports come only from a gateway not in production.`);
  process.exit(1);
}
console.log(values.json ? JSON.stringify(result.report, null, 2) : formatCallReport(result.report));
process.exit(result.errors.length ? 1 : 0);
