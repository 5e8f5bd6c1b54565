import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { createLogger } from '@shop/observability';
import type { SqlStats } from '@shop/service-kit';
import { loadGatewayConfig, startGateway, type RunningGateway } from '@shop/gateway';
import { composeSupergraph, readSupergraphConfig } from '@shop/supergraph-tools';
import { startSubgraphsInProcess } from './in-process-subgraphs.ts';
// The databases global-setup provides to every test file (its `ProvidedContext` declaration).
import type {} from './global-setup.ts';
import { TEST_REDIS_URL } from './servers.ts';
import { Redis } from 'ioredis';

async function clearRedis(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

export const SUPERGRAPH_YAML = fileURLToPath(new URL('../../../supergraph.yaml', import.meta.url));
export const SUBGRAPH_NAMES = ['accounts', 'products', 'inventory', 'reviews', 'orders'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: { data?: T | null; errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, unknown> }> };
}

export interface TestStack {
  gateway: RunningGateway;
  gatewayUrl: string;
  subgraphUrls: Record<SubgraphName, string>;
  supergraphPath: string;
  /** SQL statements each subgraph has sent so far. */
  sqlStats: Record<SubgraphName, SqlStats>;
  /** Runs `fn` and returns, per subgraph, the SQL statements sent and the requests (fetches) answered meanwhile. */
  measure(fn: () => Promise<unknown>): Promise<{ sql: Record<SubgraphName, number>; fetches: Record<SubgraphName, number> }>;
  query<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    options?: { token?: string; headers?: Record<string, string> },
  ): Promise<GraphQLResponse<T>>;
  /** Another gateway on the same subgraphs, with other settings (closed by stop()). */
  startGateway(env?: Record<string, string>): Promise<RunningGateway>;
  /** Unique per stack: Redis keys of this test run. */
  redisPrefix: string;
  persistedDir: string;
  stop(): Promise<void>;
}

/** Shared by the test gateway and subgraphs, as INTERNAL_SIGNING_SECRET is in a deployment. */
export const TEST_SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';

/**
 * The real services, in this process, over real HTTP on ephemeral loopback ports, on the
 * seeded PostgreSQL databases of this test run.
 */
export async function startTestStack(options: { gatewayEnv?: Record<string, string> } = {}): Promise<TestStack> {
  const databaseUrls = inject('databaseUrls');
  const logger = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');
  const subgraphs = await startSubgraphsInProcess(
    databaseUrls as Record<SubgraphName, string>,
    { NODE_ENV: 'test', INTERNAL_SIGNING_SECRET: TEST_SIGNING_SECRET },
    logger,
  );
  const subgraphUrls = Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, subgraphs[n].url])) as Record<SubgraphName, string>;

  const composed = await composeSupergraph(await readSupergraphConfig(SUPERGRAPH_YAML), { routingUrls: subgraphUrls });
  if (!composed.ok) throw new Error(JSON.stringify(composed.errors));
  const dir = await mkdtemp(join(tmpdir(), 'shop-gateway-'));
  const supergraphPath = join(dir, 'supergraph.graphql');
  await writeFile(supergraphPath, composed.supergraphSdl);

  const redisPrefix = `test:${process.pid}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}:`;
  const persistedDir = join(dir, 'persisted');
  const gateways: RunningGateway[] = [];
  const launchGateway = async (env: Record<string, string> = {}) => {
    const started = await startGateway(
      loadGatewayConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        NODE_ENV: 'test',
        SUPERGRAPH_PATH: supergraphPath,
        SUPERGRAPH_POLL_MS: '50',
        INTERNAL_SIGNING_SECRET: TEST_SIGNING_SECRET,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: redisPrefix,
        PERSISTED_DIR: persistedDir,
        ...env,
      }),
      logger,
    );
    gateways.push(started);
    return started;
  };
  const gateway = await launchGateway(options.gatewayEnv);
  const sqlStats = Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, subgraphs[n].db.stats])) as Record<SubgraphName, SqlStats>;
  const perSubgraph = (read: (name: SubgraphName) => number) =>
    Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, read(n)])) as Record<SubgraphName, number>;
  const snapshot = () => ({
    sql: perSubgraph((n) => sqlStats[n].statements),
    fetches: perSubgraph((n) => subgraphs[n].server.requests.count),
  });

  return {
    gateway,
    gatewayUrl: gateway.url,
    subgraphUrls,
    supergraphPath,
    sqlStats,
    async measure(fn) {
      const before = snapshot();
      await fn();
      const after = snapshot();
      return {
        sql: perSubgraph((n) => after.sql[n] - before.sql[n]),
        fetches: perSubgraph((n) => after.fetches[n] - before.fetches[n]),
      };
    },
    async query(query, variables, options = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      const response = await fetch(gateway.url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      return { status: response.status, headers: response.headers, body: (await response.json()) as GraphQLResponse['body'] } as never;
    },
    redisPrefix,
    persistedDir,
    startGateway: launchGateway,
    async stop() {
      await Promise.all(gateways.map((g) => g.close()));
      await clearRedis(redisPrefix);
      await Promise.all(SUBGRAPH_NAMES.map((n) => subgraphs[n].close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
