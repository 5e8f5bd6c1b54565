/**
 * `npm run cluster`: two gateway replicas and two replicas of each subgraph on loopback, behind
 * HAProxy, sharing one PostgreSQL and one Redis, under the chaos run's load. Phases: steady; a
 * rolling restart of every replica, one at a time (SIGTERM, drained exit, started again, back in
 * the balancer); one gateway replica killed (SIGKILL). One table: requests, failures and p99 per
 * phase. The rolling restart must cost no request.
 */
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SUBGRAPHS, type SubgraphName } from '@shop/db';
import { bundleService, gatewayNodeFlags, Supervisor, type ServiceSpec } from '@shop/dev-stack';
import { createLogger } from '@shop/observability';
import { generateStackTrust } from '@shop/service-kit';
import { composeSupergraphFile, readSupergraphConfig } from '@shop/supergraph-tools';
import { freePort, SUPERGRAPH_YAML, tokenFor, until } from '@shop/test-support';
import { createRunDatabases } from '@shop/test-support/harness';
import { phaseStats, type PhaseStats } from './classify.ts';
import { onCleanup } from './cleanup.ts';
import { sleep } from './exec.ts';
import { startHaproxy, type Balanced } from './haproxy.ts';
import { startLoad, type Sample } from './load.ts';
import { loadUserIds, newRunId, operationMix } from './operations.ts';
import { startOwnPostgres } from './postgres.ts';
import { startOwnRedis } from './redis.ts';
import { GATEWAY_SETTINGS } from './stack.ts';

const root = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
const REPLICAS = 2;
/** A gateway keeps serving this long after SIGTERM with /ready at 503: the balancer's three 500 ms checks, with room. */
const GATEWAY_SHUTDOWN_DELAY_MS = 4000;

export interface ClusterOptions {
  ratePerSecond: number;
  concurrency: number;
  steadySeconds: number;
  logLevel: string;
  haproxy: string;
  progress: (line: string) => void;
}

export interface ClusterPhase {
  phase: string;
  what: string;
  stats: PhaseStats;
}

export interface ClusterResult {
  phases: ClusterPhase[];
  /** Replicas restarted in the rolling restart, in order. */
  restarted: string[];
  /** The killed gateway replica's state in the balancer once it was taken out. */
  killedState: string;
  /** APQ hashes a gateway did not know over the whole run: one per registration when the replicas share Redis. */
  apqMisses: number;
  totalRequests: number;
}

type Service = SubgraphName | 'gateway';
const replicaName = (service: Service, index: number) => `${service}-${index + 1}`;

export async function runCluster(options: ClusterOptions): Promise<ClusterResult> {
  const { progress } = options;
  const dir = await mkdtemp(join(tmpdir(), 'shop-cluster-'));
  onCleanup('run directory', () => rm(dir, { recursive: true, force: true }));
  const logFd = openSync(join(dir, 'services.log'), 'a');
  onCleanup('service log', () => closeSync(logFd));

  progress('bundling the services, starting PostgreSQL and Redis');
  const bundles = Promise.all([bundleService(root('gateway')), ...SUBGRAPHS.map((name) => bundleService(root(`subgraphs/${name}`)))]);
  bundles.catch(() => {});
  const [postgres, redis] = await Promise.all([startOwnPostgres(), startOwnRedis()]);
  progress('migrating and seeding the databases');
  const databases = await createRunDatabases(postgres.serverUrl, 'cluster');
  const [gatewayEntry, ...subgraphEntries] = await bundles;

  // Every service behind its balancer port; each replica on a port of its own.
  const services: Balanced[] = [];
  for (const service of [...SUBGRAPHS, 'gateway'] as Service[]) {
    const replicas = [];
    for (let i = 0; i < REPLICAS; i++) replicas.push({ name: replicaName(service, i), port: await freePort() });
    services.push({ name: service, port: await freePort(), replicas });
  }
  const balanced = (service: Service) => services.find((s) => s.name === service)!;
  const viaBalancer = (service: Service) => `http://127.0.0.1:${balanced(service).port}/graphql`;
  const supergraphPath = join(dir, 'supergraph.graphql');
  await composeSupergraphFile(await readSupergraphConfig(SUPERGRAPH_YAML), supergraphPath, {
    routingUrls: Object.fromEntries(SUBGRAPHS.map((name) => [name, viaBalancer(name)])),
  });

  const trust = generateStackTrust();
  const supervisor = new Supervisor(createLogger('cluster', options.logLevel));
  onCleanup('services', () => supervisor.stop(5_000));
  const specs = new Map<string, ServiceSpec>();
  SUBGRAPHS.forEach((name, i) => {
    for (const replica of balanced(name).replicas) {
      specs.set(replica.name, {
        name: replica.name,
        entry: subgraphEntries[i]!,
        healthUrl: `http://127.0.0.1:${replica.port}/ready`,
        restartOnExit: false,
        output: logFd,
        env: {
          HOST: '127.0.0.1',
          PORT: String(replica.port),
          DATABASE_URL: databases.urls[name],
          // Orders' price look-ups and stock calls go through the balancer too.
          PRODUCTS_SUBGRAPH_URL: viaBalancer('products'),
          INVENTORY_SUBGRAPH_URL: viaBalancer('inventory'),
          // Shared by the replicas: an internal token accepted by one is refused by the other.
          REDIS_URL: redis.url,
          ...trust.subgraphEnv(name),
          NODE_ENV: 'development',
          LOG_LEVEL: options.logLevel,
        },
      });
    }
  });
  for (const replica of balanced('gateway').replicas) {
    specs.set(replica.name, {
      name: replica.name,
      entry: gatewayEntry,
      nodeFlags: gatewayNodeFlags(process.env),
      healthUrl: `http://127.0.0.1:${replica.port}/ready`,
      restartOnExit: false,
      output: logFd,
      env: {
        HOST: '127.0.0.1',
        PORT: String(replica.port),
        METRICS_PORT: 'off',
        SUPERGRAPH_PATH: supergraphPath,
        PERSISTED_DIR: join(dir, `persisted-${replica.name}`),
        // Shared by the replicas: APQ, published documents, rate limits, the response cache.
        REDIS_URL: redis.url,
        REDIS_PREFIX: 'cluster:',
        RESPONSE_CACHE: 'redis',
        SHUTDOWN_DELAY_MS: String(GATEWAY_SHUTDOWN_DELAY_MS),
        APOLLO_TELEMETRY_DISABLED: 'true',
        ...GATEWAY_SETTINGS,
        ...trust.gatewayEnv,
        NODE_ENV: 'development',
        LOG_LEVEL: options.logLevel,
      },
    });
  }
  const start = (name: string) => supervisor.start(specs.get(name)!, 180_000);
  progress(`starting ${specs.size} replicas`);
  await Promise.all([...specs.keys()].filter((name) => !name.startsWith('gateway')).map(start));
  await Promise.all(balanced('gateway').replicas.map((r) => start(r.name)));

  progress(`HAProxy in front: gateway on 127.0.0.1:${balanced('gateway').port}, each subgraph on its own port`);
  const haproxy = await startHaproxy(options.haproxy, services, dir);
  const inBalancer = (service: Service, replica: string, state: 'UP' | 'DOWN') =>
    until(async () => (await haproxy.state(service, replica)).startsWith(state), { timeoutMs: 60_000, intervalMs: 100, what: `${replica} ${state} in the balancer` });
  for (const service of services) for (const replica of service.replicas) await inBalancer(service.name as Service, replica.name, 'UP');

  const tokens = await Promise.all(loadUserIds(8).map((id) => tokenFor(id, { expiresIn: '2h' })));
  const operations = operationMix({ runId: newRunId(), tokens });
  const load = startLoad({
    url: viaBalancer('gateway'),
    operations,
    concurrency: options.concurrency,
    ratePerSecond: options.ratePerSecond,
    maxRequests: 1_000_000,
    requestTimeoutMs: 35_000,
    // Through the balancer a refused connection is the balancer's: fail at once rather than wait.
    retryRefusedForMs: 0,
  });
  progress(`load: ${options.ratePerSecond} requests/s through the balancer, at most ${options.concurrency} in flight, mix ${operations.map((o) => o.name).join(', ')}`);

  const marks: Array<{ phase: string; what: string; from: number; to: number }> = [];
  const restarted: string[] = [];
  let killedState: string;
  try {
    let from = Date.now();
    await sleep(options.steadySeconds * 1000);
    marks.push({ phase: 'steady', what: `${options.steadySeconds} s, all ${specs.size} replicas up`, from, to: Date.now() });

    from = Date.now();
    for (const service of services) {
      for (const replica of service.replicas) {
        progress(`rolling restart: ${replica.name}`);
        const exited = supervisor.exited(replica.name);
        supervisor.signal(replica.name, 'SIGTERM');
        const how = await exited;
        if (how.code !== 0) throw new Error(`${replica.name} did not drain and exit 0 on SIGTERM (${how.code ?? how.signal})`);
        await start(replica.name);
        await inBalancer(service.name as Service, replica.name, 'UP');
        restarted.push(replica.name);
      }
    }
    marks.push({ phase: 'rolling restart', what: `${restarted.length} replicas, one at a time: SIGTERM, drained exit, started again, back in the balancer`, from, to: Date.now() });

    from = Date.now();
    const victim = balanced('gateway').replicas[0]!.name;
    progress(`killing ${victim} (SIGKILL)`);
    const killed = supervisor.exited(victim);
    supervisor.signal(victim, 'SIGKILL');
    await killed;
    await inBalancer('gateway', victim, 'DOWN');
    killedState = await haproxy.state('gateway', victim);
    await sleep(5_000);
    marks.push({ phase: 'gateway replica killed', what: `${victim} SIGKILLed, taken out by the balancer's checks, 5 s more on one gateway`, from, to: Date.now() });
    await start(victim);
    await inBalancer('gateway', victim, 'UP');
  } finally {
    await load.stop();
    await haproxy.stop();
  }
  const inPhase = (mark: { from: number; to: number }) => (s: Sample) => s.start >= mark.from && s.start < mark.to;
  const phases = marks.map((mark) => ({ phase: mark.phase, what: mark.what, stats: phaseStats(load.samples.filter(inPhase(mark)), new Set()) }));
  return { phases, restarted, killedState, apqMisses: load.samples.filter((s) => s.apqMiss).length, totalRequests: load.samples.length };
}

export function clusterReport(result: ClusterResult, meta: { command: string; when: string; machine: string; commit: string }): string {
  const lines = [
    '# Replicas behind a load balancer',
    '',
    'Two gateway replicas and two replicas of each subgraph on loopback behind HAProxy (health checks on `/ready` every',
    '500 ms; a request whose connection was refused or closed before an answer is retried on the other replica), sharing',
    'one PostgreSQL and one Redis (APQ, published documents, rate limits, the response cache, internal-token nonces),',
    "under the chaos run's mix (product listing, signed-in orders, placing orders, a product by APQ). A failure is an",
    'answer that is not a complete 200 (the client retries a connection closed before an answer, as HTTP clients do).',
    '',
    `Command: \`${meta.command}\``,
    '',
    `Run: ${meta.when}, commit ${meta.commit}. ${meta.machine}`,
    '',
    '| phase | what | requests | failed | p50 ms | p99 ms | max ms | statuses | connections closed before an answer (retried by the client) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
    ...result.phases.map(
      ({ phase, what, stats }) =>
        `| ${phase} | ${what} | ${stats.requests} | ${stats.failed} | ${stats.p50Ms} | ${stats.p99Ms} | ${stats.maxMs} | ${Object.entries(stats.byStatus).map(([s, n]) => `${s}: ${n}`).join(', ')} | ${stats.closed} |`,
    ),
    '',
    `Rolling restart order: ${result.restarted.join(', ')}. The killed replica's state in the balancer: ${result.killedState}.`,
    `APQ misses over the ${result.totalRequests} requests: ${result.apqMisses} (the replicas share one APQ store in Redis).`,
  ];
  const failures = result.phases.flatMap((p) => Object.entries(p.stats.messages).map(([m, n]) => `- ${p.phase}: ${n} x ${m}`));
  if (failures.length > 0) lines.push('', 'Errors seen:', '', ...failures);
  return `${lines.join('\n')}\n`;
}
