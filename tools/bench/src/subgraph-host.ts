/**
 * Child process of the bench: serves one set of subgraphs and the supergraph composed over
 * them, and answers the harness's "how many fetches and SQL statements so far" over IPC.
 * Kept out of the harness process so the load generator and the subgraphs do not share
 * one event loop.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exitOnFailure } from '@shop/cli-kit';
import { createLogger } from '@shop/observability';
import { stackTrustFrom } from '@shop/service-kit';
import { subgraphDatabaseUrls } from '@shop/db';
import { composeSupergraphFile, readSupergraphConfig, type SupergraphConfig } from '@shop/supergraph-tools';
import { SUPERGRAPH_YAML } from '@shop/test-support';
import { seededDatabases, startSubgraphsInProcess } from '@shop/test-support/harness';
import type { HostCounts, HostMessage, HostReady } from './protocol.ts';
import { REFERENCE_NAMES, referenceSchemaUrl, startReferenceSubgraphs } from './reference-subgraphs.ts';

// A database that is not running is one line on stderr (the bench then exits with the same code), not a stack.
exitOnFailure('bench');

const logger = createLogger('bench-subgraphs', process.env.BENCH_LOG_LEVEL ?? 'warn');
const set = process.env.BENCH_SET;

interface Hosted {
  /** The subgraphs and their schema files; routed to `urls`. */
  config: SupergraphConfig;
  urls: Record<string, string>;
  counts(): HostCounts;
  close(): Promise<void>;
}

async function hostReference(): Promise<Hosted> {
  const subgraphs = await startReferenceSubgraphs(logger);
  return {
    config: {
      federationVersion: '=2.7.0',
      subgraphs: REFERENCE_NAMES.map((name) => ({ name, routingUrl: subgraphs.urls[name], schemaFile: fileURLToPath(referenceSchemaUrl(name)) })),
    },
    urls: subgraphs.urls,
    counts: () => ({ fetches: sum(Object.values(subgraphs.fetches())), sql: null }),
    close: subgraphs.close,
  };
}

async function hostShop(): Promise<Hosted> {
  if (!process.env.BENCH_DATABASE_URL) throw new Error('BENCH_DATABASE_URL is not set (the bench sets it for its subgraph host)');
  const databaseUrls = subgraphDatabaseUrls(process.env.BENCH_DATABASE_URL);
  // Kept between runs: seeded on first use only.
  await seededDatabases(databaseUrls);
  if (!process.env.BENCH_TRUST) throw new Error('BENCH_TRUST is not set (the bench passes its gateway\'s and orders\' keys)');
  const trust = stackTrustFrom(JSON.parse(process.env.BENCH_TRUST) as Parameters<typeof stackTrustFrom>[0]);
  const subgraphs = await startSubgraphsInProcess(
    databaseUrls,
    // Development explicitly (unset is production): the peer gateways run against REQUIRE_SIGNATURE=false, which production refuses.
    { LOG_LEVEL: 'warn', NODE_ENV: 'development', REQUIRE_SIGNATURE: process.env.REQUIRE_SIGNATURE ?? 'true' },
    logger,
    (name) => trust.subgraphEnv(name),
  );
  return {
    config: await readSupergraphConfig(SUPERGRAPH_YAML),
    urls: subgraphs.urls,
    // Orders' price look-ups to products are internal calls too, but not the gateway's: count
    // only what the gateway sends (each subgraph's answered requests minus orders' own calls
    // would need a separate counter; the bench's queries do not place orders).
    counts: () => {
      const { fetches, sql } = subgraphs.counts();
      return { fetches: sum(Object.values(fetches)), sql: sum(Object.values(sql)) };
    },
    close: subgraphs.close,
  };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

const hosted = set === 'reference' ? await hostReference() : set === 'shop' ? await hostShop() : null;
if (!hosted) throw new Error(`BENCH_SET must be reference or shop (got ${set})`);

const dir = await mkdtemp(join(tmpdir(), `shop-bench-${set}-`));
const supergraphPath = join(dir, 'supergraph.graphql');
await composeSupergraphFile(hosted.config, supergraphPath, { routingUrls: hosted.urls });

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await hosted!.close();
  // The harness writes the peers' copy of the supergraph beside ours: the whole directory goes.
  await rm(dir, { recursive: true, force: true });
  process.exit(0);
}
process.on('message', (message: HostMessage) => {
  if (message.type === 'counts') process.send!({ type: 'counts', ...hosted.counts() });
  if (message.type === 'stop') void stop();
});
// The harness going away (even killed) must not leave subgraphs behind.
process.on('disconnect', () => void stop());
const ready: HostReady = { type: 'ready', supergraphPath, urls: hosted.urls };
process.send!(ready);
