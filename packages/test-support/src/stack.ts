import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { mapSubgraphs, type SubgraphName } from '@shop/db';
import { createLogger } from '@shop/observability';
import type { SqlStats, StackTrust } from '@shop/service-kit';
import type { RunningGateway } from '@shop/gateway';
// The databases global-setup provides to every test file (its `ProvidedContext` declaration).
import type {} from './global-setup.ts';
import { startHangingSubgraph, type HangingSubgraph } from './hanging-subgraph.ts';
import { startInProcessSupergraph } from './in-process-supergraph.ts';
import { TEST_REDIS_URL } from './servers.ts';

export type { SubgraphName } from '@shop/db';
export { startSubgraphCopy } from './subgraph-copy.ts';

async function clearRedis(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

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
  /** The keys of this stack: the gateway's (which only the gateway should hold) and orders'. */
  trust: StackTrust;
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
  /**
   * Another gateway, whose `subgraph` accepts fetches and never answers: an operation that reads
   * from it stays in flight until `hanging.release()` (admission control, queueing). Both are
   * closed by stop(), the hanging subgraph first so that the gateway's drain does not wait on it.
   */
  startGatewayWithHangingSubgraph(
    subgraph: SubgraphName,
    env?: Record<string, string>,
  ): Promise<{ gateway: RunningGateway; hanging: HangingSubgraph }>;
  /** Unique per stack: Redis keys of this test run. */
  redisPrefix: string;
  persistedDir: string;
  stop(): Promise<void>;
}

/**
 * The real services, in this process, over real HTTP on ephemeral loopback ports, on the
 * seeded PostgreSQL databases of this test run.
 */
export async function startTestStack(options: { gatewayEnv?: Record<string, string> } = {}): Promise<TestStack> {
  const redisPrefix = `test:${process.pid}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}:`;
  const supergraph = await startInProcessSupergraph({
    databaseUrls: inject('databaseUrls'),
    logger: createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent'),
    nodeEnv: 'test',
    gatewayEnv: { SUPERGRAPH_POLL_MS: '50', REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: redisPrefix },
  });
  const hangingSubgraphs: HangingSubgraph[] = [];
  const stop = async () => {
    for (const hanging of hangingSubgraphs) hanging.close();
    await supergraph.stop();
    await clearRedis(redisPrefix);
  };
  let gateway: RunningGateway;
  try {
    gateway = await supergraph.startGateway(options.gatewayEnv);
  } catch (error) {
    await stop();
    throw error;
  }
  const { subgraphs } = supergraph;

  return {
    gateway,
    gatewayUrl: gateway.url,
    subgraphUrls: subgraphs.urls,
    supergraphPath: supergraph.supergraphPath,
    trust: supergraph.trust,
    sqlStats: subgraphs.sqlStats,
    async measure(fn) {
      const before = subgraphs.counts();
      await fn();
      const after = subgraphs.counts();
      return {
        sql: mapSubgraphs((n) => after.sql[n] - before.sql[n]),
        fetches: mapSubgraphs((n) => after.fetches[n] - before.fetches[n]),
      };
    },
    async query(query, variables, options = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      const response = await fetch(gateway.url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      return { status: response.status, headers: response.headers, body: (await response.json()) as GraphQLResponse['body'] } as never;
    },
    redisPrefix,
    persistedDir: supergraph.persistedDir,
    startGateway: (env) => supergraph.startGateway(env),
    async startGatewayWithHangingSubgraph(subgraph, env = {}) {
      const hanging = await startHangingSubgraph();
      hangingSubgraphs.push(hanging);
      // No retries unless a test asks: release() fails the held fetches, and a retry would only be held again.
      const gateway = await supergraph.startGateway({ [`SUBGRAPH_URL_${subgraph.toUpperCase()}`]: hanging.url, SUBGRAPH_RETRIES: '0', ...env });
      return { gateway, hanging };
    },
    stop,
  };
}
