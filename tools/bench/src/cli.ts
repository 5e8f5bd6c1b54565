/**
 * `npm run bench`: starts each set of subgraphs and each gateway itself, loads every gateway
 * with the same scenarios over loopback for a bounded time, and prints (and writes) one table.
 * Every gateway is measured in the same run on the same subgraphs, so the ratios hold even on
 * a noisy machine where the absolute numbers do not.
 *
 * Flags mirror the BENCH_* variables: --duration 12 --warmup 3 --connections 50 --rounds 3
 * --sets reference,shop --gateways apollo,ours --scenarios benchmark,me --output path|-
 * --cpu-prof dir: each gateway writes a V8 CPU profile there when it stops (`npm run bench:profile -- <file>` reads one).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { exitOnFailure } from '@shop/cli-kit';
import { withDatabase } from '@shop/db';
import { generateStackTrust, loadConfig } from '@shop/service-kit';
import { declareEnforcedSecurityFeatures } from '@shop/gateway';
import { LOCAL_POSTGRES_URL, LOCAL_REDIS_URL } from '@shop/test-support';
import { bundledEntry, GATEWAYS, type GatewaySpec } from './gateways.ts';
import { runLoad, type LoadResult } from './load.ts';
import {
  sampleResources,
  startGatewayProcess,
  startSubgraphHost,
  type GatewayProcess,
  type ResourceSample,
  type SubgraphHost,
} from './processes.ts';
import type { HostCounts } from './protocol.ts';
import { renderReport, type Row } from './report.ts';
import { isCorrect, SCENARIOS, type LoadRequest, type Scenario, type SubgraphSet } from './scenarios.ts';

const list = (all: readonly string[]) =>
  z
    .string()
    .default(all.join(','))
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .refine((names) => names.every((n) => all.includes(n)), { message: `expected a comma-separated subset of ${all.join(',')}` });

const benchEnv = z.object({
  BENCH_DURATION: z.coerce.number().positive().max(600).default(12),
  BENCH_WARMUP: z.coerce.number().min(0).max(120).default(3),
  BENCH_CONNECTIONS: z.coerce.number().int().positive().max(1000).default(50),
  /** Each gateway is measured this many times, interleaved with the others; the median round is reported. */
  BENCH_ROUNDS: z.coerce.number().int().positive().max(20).default(1),
  BENCH_SETS: list(['reference', 'shop']),
  BENCH_GATEWAYS: list(GATEWAYS.map((g) => g.id)),
  BENCH_SCENARIOS: list(SCENARIOS.map((s) => s.id)),
  BENCH_OUTPUT: z.string().default(fileURLToPath(new URL('../RESULTS.md', import.meta.url))),
  // Kept between runs (seeded once), so not a database of this run.
  BENCH_DATABASE_URL: z.string().default(withDatabase(LOCAL_POSTGRES_URL, 'shop_bench')),
  REDIS_URL: z.string().default(LOCAL_REDIS_URL),
  /** A directory: each gateway runs with --cpu-prof and writes its profile there (in <dir>/<gateway id>/) when it stops. */
  BENCH_CPU_PROF: z.string().min(1).optional(),
});

// A bad flag or variable, PostgreSQL or Redis not running: one line and a sysexits code, never a stack.
exitOnFailure('bench', 'npm run bench [-- --duration 12 --warmup 3 --connections 50 --rounds 3 --sets reference,shop --gateways ... --scenarios ... --output path|-]');
const { values: flags } = parseArgs({
  options: Object.fromEntries(
    ['duration', 'warmup', 'connections', 'rounds', 'sets', 'gateways', 'scenarios', 'output', 'cpu-prof'].map((name) => [name, { type: 'string' as const }]),
  ),
});
const fromFlags = Object.fromEntries(Object.entries(flags).map(([k, v]) => [`BENCH_${k.toUpperCase().replace('-', '_')}`, v]));
const options = loadConfig(benchEnv, { ...process.env, ...fromFlags });
const TRUST = generateStackTrust();
/**
 * Our gateway as deployed, with two deployment policies out of the way: rate limits (the load
 * comes from one address, far above any per-IP limit a deployment would set) and the cost limit
 * (the reference schema has no @listSize, so its lists count at the default size). Cost is still
 * computed on every request (measure mode), so its price is in the numbers.
 */
const OURS_BENCH_ENV = {
  ...TRUST.gatewayEnv,
  RATE_LIMIT_IP: '10000000',
  RATE_LIMIT_CLIENT: '10000000',
  COST_MODE: 'measure',
  // Any free port for the internal metrics listener: a developer's `npm start` may hold 9464.
  METRICS_PORT: '0',
};
// As typed: npm passes flags on to the script only after `--`.
const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');

const rows: Row[] = [];
const started = new Date();
for (const set of options.BENCH_SETS as SubgraphSet[]) {
  const scenarios = SCENARIOS.filter((s) => s.sets.includes(set) && options.BENCH_SCENARIOS.includes(s.id));
  if (scenarios.length === 0) continue;
  console.log(`\n== ${set} subgraphs`);
  // Our gateway signs its subgraph requests (that cost is measured); the peers cannot, so the
  // shop subgraphs run with tokens checked but not required for this benchmark only.
  const host = await startSubgraphHost(set, {
    BENCH_DATABASE_URL: options.BENCH_DATABASE_URL,
    BENCH_TRUST: JSON.stringify({ gateway: TRUST.gateway, orders: TRUST.orders }),
    REQUIRE_SIGNATURE: 'false',
  });
  // Every gateway runs for the whole set (idle ones cost no CPU), so each round can measure them
  // one after the other: a change in the machine's background load hits all of them alike.
  const gateways: Array<{ spec: GatewaySpec; process: GatewayProcess }> = [];
  // The shop supergraph links @authenticated/@requiresScopes as SECURITY features, which
  // @apollo/gateway refuses to serve without enforcing. The peers get a copy that declares them
  // handled (they then ignore them; no benchmark operation depends on them); ours enforces them.
  const peerSupergraphPath = `${host.ready.supergraphPath}.peers.graphql`;
  writeFileSync(peerSupergraphPath, declareEnforcedSecurityFeatures(readFileSync(host.ready.supergraphPath, 'utf8')));
  try {
    for (const spec of GATEWAYS.filter((g) => options.BENCH_GATEWAYS.includes(g.id))) {
      const env = {
        ...(spec.identity ? OURS_BENCH_ENV : {}),
        ...spec.env,
        SUPERGRAPH_PATH: spec.identity ? host.ready.supergraphPath : peerSupergraphPath,
        // Only the gateways that use Redis get it: the others run as their defaults do, in process.
        ...(spec.env.RESPONSE_CACHE === 'redis' ? { REDIS_URL: options.REDIS_URL } : {}),
      };
      const profile = options.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${resolve(process.env.INIT_CWD ?? process.cwd(), options.BENCH_CPU_PROF, spec.id)}`] : [];
      gateways.push({ spec, process: await startGatewayProcess(await bundledEntry(spec), env, [...(spec.nodeFlags ?? []), ...profile]) });
    }
    for (const scenario of scenarios) {
      const runs = new Map<string, RunResult[]>();
      const prepared = new Map<string, Prepared | string>();
      for (const { spec, process: gateway } of gateways) {
        prepared.set(
          spec.id,
          scenario.needsIdentity(set) && !spec.identity
            ? 'does not verify our tokens'
            : await prepare(host, gateway, scenario, set).catch((error: unknown) => failure(gateway, error)),
        );
      }
      for (let round = 1; round <= options.BENCH_ROUNDS; round += 1) {
        for (const { spec, process: gateway } of gateways) {
          const ready = prepared.get(spec.id)!;
          if (typeof ready === 'string') continue;
          const result = await measure(host, gateway, ready).catch((error: unknown) => failure(gateway, error));
          if (typeof result === 'string' || gateway.exited()) {
            // A gateway that died under the load is reported as such, and not measured again.
            prepared.set(spec.id, typeof result === 'string' ? result : failure(gateway, new Error('exited during the load')));
            if (typeof result === 'string') continue;
          }
          runs.set(spec.id, [...(runs.get(spec.id) ?? []), result]);
          console.log(
            `  ${scenario.id.padEnd(10)} round ${round} ${spec.id.padEnd(18)} ${result.requestsPerSecond.toFixed(0).padStart(6)} req/s  p99 ${result.p99.toFixed(1)} ms  errors ${result.errors}  rss ${(result.peakRssBytes / 2 ** 20).toFixed(0)} MB${result.peakPssBytes === null ? '' : `  pss ${(result.peakPssBytes / 2 ** 20).toFixed(0)} MB`}`,
          );
        }
      }
      for (const { spec } of gateways) {
        const row: Row = { set, scenario: scenario.id, gateway: spec.id, label: spec.label, baseline: spec.baseline ?? false };
        const ready = prepared.get(spec.id)!;
        if (typeof ready === 'string' && !runs.has(spec.id)) row.skipped = ready;
        else if (typeof ready === 'string') Object.assign(row, summarize(runs.get(spec.id)!), { note: ready });
        else Object.assign(row, summarize(runs.get(spec.id) ?? []), { singleFetches: ready.single.fetches, singleSql: ready.single.sql });
        rows.push(row);
      }
    }
  } finally {
    for (const { process: gateway } of gateways) await gateway.stop();
    await host.stop();
  }
}

const report = await renderReport({ rows, command, started, options: { duration: options.BENCH_DURATION, warmup: options.BENCH_WARMUP, connections: options.BENCH_CONNECTIONS, rounds: options.BENCH_ROUNDS } });
console.log(`\n${report}`);
if (options.BENCH_OUTPUT !== '-') {
  await writeFile(options.BENCH_OUTPUT, report);
  console.log(`written to ${options.BENCH_OUTPUT}`);
}

/** Counts once no request is in flight any more (the ones a load run left behind have finished). */
async function settledCounts(host: SubgraphHost): Promise<HostCounts> {
  let last = await host.counts();
  for (let i = 0; i < 25; i += 1) {
    await new Promise((r) => setTimeout(r, 200));
    const now = await host.counts();
    if (now.fetches === last.fetches && now.sql === last.sql) return now;
    last = now;
  }
  return last;
}

/** Subgraph fetches and SQL statements per request, one request at a time. */
async function perRequestCounts(host: SubgraphHost, url: string, requests: LoadRequest[]): Promise<HostCounts> {
  const before = await settledCounts(host);
  for (const request of requests) await fetch(url, { method: 'POST', headers: request.headers, body: request.body }).then((r) => r.text());
  const after = await settledCounts(host);
  return {
    fetches: (after.fetches - before.fetches) / requests.length,
    sql: after.sql === null || before.sql === null ? null : (after.sql - before.sql) / requests.length,
  };
}

interface Prepared {
  /** Sent again before every round, as an APQ client re-registers a query the gateway forgot. */
  prime: () => Promise<void>;
  requests: LoadRequest[];
  exactBodies: Array<string | undefined>;
  single: HostCounts;
}

/**
 * Primes the gateway (persisted query), checks one answer per request (a gateway that answers
 * wrongly is reported as such, not timed) and counts one request's internal calls alone.
 */
async function prepare(host: SubgraphHost, gateway: GatewayProcess, scenario: Scenario, set: SubgraphSet): Promise<Prepared | string> {
  const send = (request: LoadRequest) => fetch(gateway.url, { method: 'POST', headers: request.headers, body: request.body });
  const primers = (await scenario.prime?.(set)) ?? [];
  const prime = async () => {
    // Sent a few times so each worker process of a multi-worker gateway sees it.
    for (const request of primers) for (let i = 0; i < 8; i += 1) await (await send(request)).text();
  };
  await prime();
  const requests = await scenario.requests(set);
  const exactBodies: Array<string | undefined> = [];
  for (const [index, request] of requests.entries()) {
    const response = await send(request);
    const body = await response.text();
    const expected = scenario.expected?.(set, index);
    if (!isCorrect(response.status, body, expected)) return `wrong answer: ${response.status} ${body.slice(0, 200)}`;
    exactBodies.push(expected === undefined ? undefined : body);
  }
  return { prime, requests, exactBodies, single: await perRequestCounts(host, gateway.url, requests) };
}

type RunResult = LoadResult & ResourceSample & { fetchesPerRequest: number; sqlPerRequest: number | null };

async function measure(host: SubgraphHost, gateway: GatewayProcess, prepared: Prepared): Promise<RunResult> {
  const load = { url: gateway.url, connections: options.BENCH_CONNECTIONS, requests: prepared.requests, exactBodies: prepared.exactBodies };
  await prepared.prime();
  if (options.BENCH_WARMUP > 0) await runLoad({ ...load, durationSeconds: options.BENCH_WARMUP });
  const before = await settledCounts(host);
  const sampler = sampleResources(gateway.pid);
  const result = await runLoad({ ...load, durationSeconds: options.BENCH_DURATION });
  const resources = await sampler.stop();
  const after = await settledCounts(host);
  return {
    ...result,
    ...resources,
    // Per request sent: requests still in flight when the window closes are executed too.
    fetchesPerRequest: (after.fetches - before.fetches) / Math.max(1, result.sent),
    sqlPerRequest: after.sql === null || before.sql === null ? null : (after.sql - before.sql) / Math.max(1, result.sent),
  };
}

/** The round with the median throughput stands for the gateway; peak RSS is the highest seen; errors add up. */
function summarize(runs: RunResult[]): Partial<Row> {
  const sorted = [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return {
    ...median,
    peakRssBytes: Math.max(...runs.map((r) => r.peakRssBytes)),
    peakPssBytes: runs.some((r) => r.peakPssBytes === null) ? null : Math.max(...runs.map((r) => r.peakPssBytes!)),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    rounds: runs.map((r) => r.requestsPerSecond),
  };
}

function failure(gateway: GatewayProcess, error: unknown): string {
  const exit = gateway.exited();
  return exit ? `gateway exited (${exit})` : `failed: ${error instanceof Error ? error.message : String(error)}`;
}
