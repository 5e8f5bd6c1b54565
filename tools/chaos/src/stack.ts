import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SUBGRAPHS, type SubgraphName } from '@shop/db';
import { bundleService, gatewayNodeFlags, Supervisor, type ServiceSpec } from '@shop/dev-stack';
import { createLogger } from '@shop/observability';
import { generateStackTrust } from '@shop/service-kit';
import { composeSupergraphFile, readSupergraphConfig } from '@shop/supergraph-tools';
import { freePort, SUPERGRAPH_YAML } from '@shop/test-support';
import { createRunDatabases, type RunDatabases } from '@shop/test-support/harness';
import { onCleanup } from './cleanup.ts';
import { startOwnPostgres, type OwnPostgres } from './postgres.ts';
import { startOwnRedis, type OwnRedis } from './redis.ts';

const root = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));

export type ServiceName = SubgraphName | 'gateway';

/** Settings of the gateway under test that differ from its defaults, and why. */
export const GATEWAY_SETTINGS: Record<string, string> = {
  // All load comes from one loopback address and a handful of users: the per-address and
  // per-user limits would answer 429 to the load itself, which is not what is measured.
  RATE_LIMIT_IP: '10000000',
  RATE_LIMIT_CLIENT: '10000000',
};

export interface ChaosStack {
  gatewayUrl: string;
  /** Where the gateway's Prometheus metrics are served (its internal listener when it has one). */
  gatewayMetricsTarget(): Promise<{ address: string; path: string }>;
  subgraphUrls: Record<SubgraphName, string>;
  databases: RunDatabases;
  postgres: OwnPostgres;
  redis: OwnRedis;
  /** Starts a service again (after it was killed or exited) and waits until it is healthy. */
  start(name: ServiceName): Promise<void>;
  signal(name: ServiceName, signal: NodeJS.Signals): boolean;
  exited(name: ServiceName): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Answers /health (subgraphs) or /ready (gateway) with 200 now. */
  healthy(name: ServiceName): Promise<boolean>;
  /** The last lines the services wrote (their logs go to a file of this run). */
  logTail(lines?: number): Promise<string>;
}

export interface StackOptions {
  logLevel: string;
  progress: (line: string) => void;
}

/**
 * The real stack as separate processes on free loopback ports: the five subgraphs and the
 * gateway from their esbuild bundles (as `npm start` runs them, through its Supervisor), on a
 * PostgreSQL cluster and a redis-server that belong to this run.
 */
export async function startChaosStack(options: StackOptions): Promise<ChaosStack> {
  const { progress } = options;
  const dir = await mkdtemp(join(tmpdir(), 'shop-chaos-'));
  onCleanup('run directory', () => rm(dir, { recursive: true, force: true }));
  const logPath = join(dir, 'services.log');
  const logFd = openSync(logPath, 'a');
  onCleanup('service log', () => closeSync(logFd));

  progress('bundling the services, starting PostgreSQL and Redis');
  const bundles = Promise.all([bundleService(root('gateway')), ...SUBGRAPHS.map((name) => bundleService(root(`subgraphs/${name}`)))]);
  bundles.catch(() => {});
  const [postgres, redis] = await Promise.all([startOwnPostgres(), startOwnRedis()]);
  progress(`PostgreSQL on port ${postgres.port}, Redis at ${redis.url}; migrating and seeding the databases`);
  const databases = await createRunDatabases(postgres.serverUrl, 'chaos');

  const ports = Object.fromEntries(await Promise.all(SUBGRAPHS.map(async (name) => [name, await freePort()] as const))) as Record<
    SubgraphName,
    number
  >;
  const subgraphUrls = Object.fromEntries(SUBGRAPHS.map((name) => [name, `http://127.0.0.1:${ports[name]}/graphql`])) as Record<SubgraphName, string>;
  const supergraphPath = join(dir, 'supergraph.graphql');
  await composeSupergraphFile(await readSupergraphConfig(SUPERGRAPH_YAML), supergraphPath, { routingUrls: subgraphUrls });

  const gatewayPort = await freePort();
  const metricsPort = await freePort();
  const trust = generateStackTrust();
  const supervisor = new Supervisor(createLogger('chaos', options.logLevel));
  onCleanup('services', () => supervisor.stop(5_000));

  const [gatewayEntry, ...subgraphEntries] = await bundles;
  const specs = new Map<ServiceName, ServiceSpec>();
  SUBGRAPHS.forEach((name, i) => {
    specs.set(name, {
      name,
      entry: subgraphEntries[i]!,
      healthUrl: `http://127.0.0.1:${ports[name]}/health`,
      restartOnExit: false,
      output: logFd,
      env: {
        HOST: '127.0.0.1',
        PORT: String(ports[name]),
        DATABASE_URL: databases.urls[name],
        PRODUCTS_SUBGRAPH_URL: subgraphUrls.products,
        INVENTORY_SUBGRAPH_URL: subgraphUrls.inventory,
        // As replicas would: used internal-token nonces are shared in Redis.
        REDIS_URL: redis.url,
        ...trust.subgraphEnv(name),
        // Unset NODE_ENV is production; the chaos run signs its load with the development secret.
        NODE_ENV: 'development',
        LOG_LEVEL: options.logLevel,
      },
    });
  });
  specs.set('gateway', {
    name: 'gateway',
    entry: gatewayEntry,
    nodeFlags: gatewayNodeFlags(process.env),
    healthUrl: `http://127.0.0.1:${gatewayPort}/ready`,
    restartOnExit: false,
    output: logFd,
    env: {
      HOST: '127.0.0.1',
      PORT: String(gatewayPort),
      // The internal metrics listener (read where the gateway has one; ignored otherwise).
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: String(metricsPort),
      SUPERGRAPH_PATH: supergraphPath,
      PERSISTED_DIR: join(dir, 'persisted'),
      REDIS_URL: redis.url,
      REDIS_PREFIX: 'chaos:',
      APOLLO_TELEMETRY_DISABLED: 'true',
      ...GATEWAY_SETTINGS,
      ...trust.gatewayEnv,
      NODE_ENV: 'development',
      LOG_LEVEL: options.logLevel,
    },
  });
  // Generous: on a busy shared machine a service's start-up has taken over a minute.
  const start = (name: ServiceName) => supervisor.start(specs.get(name)!, 180_000);
  progress('starting the subgraphs and the gateway');
  try {
    await Promise.all(SUBGRAPHS.map(start));
    await start('gateway');
  } catch (error) {
    progress(`the services' last log lines:\n${(await readFile(logPath, 'utf8').catch(() => '')).split('\n').slice(-40).join('\n')}`);
    throw error;
  }

  const healthy = async (name: ServiceName) => {
    try {
      const response = await fetch(specs.get(name)!.healthUrl, { signal: AbortSignal.timeout(1_000) });
      await response.body?.cancel();
      return response.ok;
    } catch {
      return false;
    }
  };
  return {
    gatewayUrl: `http://127.0.0.1:${gatewayPort}/graphql`,
    async gatewayMetricsTarget() {
      // The internal listener when this gateway has one, else /metrics beside /graphql.
      for (const [address, path] of [[`127.0.0.1:${metricsPort}`, '/metrics'], [`127.0.0.1:${gatewayPort}`, '/metrics']] as const) {
        try {
          const response = await fetch(`http://${address}${path}`, { signal: AbortSignal.timeout(2_000) });
          const text = await response.text();
          if (response.ok && text.includes('# TYPE')) return { address, path };
        } catch {
          // not served there
        }
      }
      throw new Error('the gateway serves no Prometheus metrics on its metrics port nor on its public port');
    },
    subgraphUrls,
    databases,
    postgres,
    redis,
    start,
    signal: (name, signal) => supervisor.signal(name, signal),
    exited: (name) => supervisor.exited(name),
    healthy,
    async logTail(lines = 40) {
      const text = await readFile(logPath, 'utf8').catch(() => '');
      return text.split('\n').slice(-lines - 1).join('\n');
    },
  };
}
