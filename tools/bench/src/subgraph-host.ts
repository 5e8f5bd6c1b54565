/**
 * Child process of the bench: serves one set of subgraphs and the supergraph composed over
 * them, and answers the harness's "how many fetches and SQL statements so far" over IPC.
 * Kept out of the harness process so the load generator and the subgraphs do not share
 * one event loop.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@shop/observability';
import { isSeeded, prepareDatabases, seed, subgraphDatabaseUrls, SUBGRAPHS } from '@shop/db';
import { composeSupergraph, readSupergraphConfig } from '@shop/supergraph-tools';
import { startSubgraphsInProcess } from '@shop/test-support';
import type { HostCounts, HostMessage, HostReady } from './protocol.ts';
import { REFERENCE_NAMES, referenceSchemaUrl, startReferenceSubgraphs } from './reference-subgraphs.ts';

const logger = createLogger('bench-subgraphs', process.env.BENCH_LOG_LEVEL ?? 'warn');
const set = process.env.BENCH_SET;

interface Hosted {
  urls: Record<string, string>;
  schemaFiles: Record<string, string>;
  counts(): HostCounts;
  close(): Promise<void>;
}

async function hostReference(): Promise<Hosted> {
  const subgraphs = await startReferenceSubgraphs(logger);
  return {
    urls: subgraphs.urls,
    schemaFiles: Object.fromEntries(REFERENCE_NAMES.map((n) => [n, fileURLToPath(referenceSchemaUrl(n))])),
    counts: () => ({ fetches: sum(Object.values(subgraphs.fetches())), sql: null }),
    close: subgraphs.close,
  };
}

async function hostShop(): Promise<Hosted> {
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/shop_bench';
  const urls = subgraphDatabaseUrls(databaseUrl);
  await prepareDatabases(urls);
  if (!(await isSeeded(urls))) await seed(urls);
  const running = await startSubgraphsInProcess(
    urls,
    {
      LOG_LEVEL: 'warn',
      INTERNAL_SIGNING_SECRET: process.env.INTERNAL_SIGNING_SECRET ?? '',
      REQUIRE_SIGNATURE: process.env.REQUIRE_SIGNATURE ?? 'true',
    },
    logger,
  );
  const config = await readSupergraphConfig(fileURLToPath(new URL('../../../supergraph.yaml', import.meta.url)));
  return {
    urls: Object.fromEntries(SUBGRAPHS.map((n) => [n, running[n].url])),
    schemaFiles: Object.fromEntries(config.subgraphs.map((s) => [s.name, s.schemaFile])),
    // Orders' price look-ups to products are internal calls too, but not the gateway's: count
    // only what the gateway sends (each subgraph's answered requests minus orders' own calls
    // would need a separate counter; the bench's queries do not place orders).
    counts: () => ({
      fetches: sum(SUBGRAPHS.map((n) => running[n].server.requests.count)),
      sql: sum(SUBGRAPHS.map((n) => running[n].db.stats.statements)),
    }),
    close: async () => {
      await Promise.all(SUBGRAPHS.map((n) => running[n].close()));
    },
  };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

const hosted = set === 'reference' ? await hostReference() : set === 'shop' ? await hostShop() : null;
if (!hosted) throw new Error(`BENCH_SET must be reference or shop (got ${set})`);

const composed = await composeSupergraph(
  {
    federationVersion: '=2.7.0',
    subgraphs: Object.keys(hosted.urls).map((name) => ({ name, routingUrl: hosted.urls[name]!, schemaFile: hosted.schemaFiles[name]! })),
  },
  {},
);
if (!composed.ok) throw new Error(`composition failed: ${JSON.stringify(composed.errors)}`);
const dir = await mkdtemp(join(tmpdir(), `shop-bench-${set}-`));
const supergraphPath = join(dir, 'supergraph.graphql');
await writeFile(supergraphPath, composed.supergraphSdl);

process.on('message', (message: HostMessage) => {
  if (message.type === 'counts') process.send!({ type: 'counts', ...hosted.counts() });
  if (message.type === 'stop') void hosted.close().then(() => process.exit(0));
});
// The harness going away (even killed) must not leave subgraphs behind.
process.on('disconnect', () => void hosted.close().then(() => process.exit(0)));
const ready: HostReady = { type: 'ready', supergraphPath, urls: hosted.urls };
process.send!(ready);
