import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { BoundedLabel } from './labels.ts';

/** An admission limiter's state (the gateway's bound on executing operations); read at each scrape. */
export interface AdmissionLike {
  executing(): number;
  queued(): number;
  readonly maxConcurrent: number;
}

/** A Redis connection's state (service-kit's RedisConnection): read at each scrape, degradations as they happen. */
export interface RedisHealthLike {
  readonly component: string;
  isUp(): boolean;
  degradedOperations(): number;
  onDegraded(listener: () => void): void;
}

/** A database's health (service-kit's DatabaseHealth): read at each scrape, errors as they happen. */
export interface DatabaseHealthLike {
  isUp(): boolean;
  /** The database errors counted so far, by code and reason. */
  errors(): ReadonlyArray<{ code: string; reason: string; count: number }>;
  onError(listener: (code: string, reason: string) => void): void;
}

/** The pool numbers node-postgres exposes; read when Prometheus scrapes, not per query. */
export interface PoolLike {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
  readonly options: { max?: number };
}

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const COUNT_BUCKETS = [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 100];
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
/** Around the gateway's default cost limit (10,000) finely, then by orders of magnitude. */
const COST_BUCKETS = [1, 10, 100, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 1_000_000];

/** Error codes kept as label values; any other code counts as "error" so the label stays bounded. */
const KNOWN_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'RATE_LIMITED',
  'SERVER_BUSY',
  'SUBGRAPH_UNAVAILABLE',
  'SUBGRAPH_TIMEOUT',
  'DATABASE_UNAVAILABLE',
  'DATABASE_TIMEOUT',
  'INTERNAL_SERVER_ERROR',
]);

export function outcomeOf(codes: readonly unknown[]): string {
  if (codes.length === 0) return 'ok';
  const code = codes.find((c) => typeof c === 'string' && KNOWN_CODES.has(c));
  return typeof code === 'string' ? code : 'error';
}

/**
 * One Prometheus registry per service (the integration tests run five services in one process,
 * so a global registry would mix them), with every metric the dashboards and alerts read.
 */
export function createServiceMetrics(service: string, options: { maxOperations?: number } = {}) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  // Event-loop lag, heap, GC and CPU: the saturation signals of a Node process.
  collectDefaultMetrics({ register: registry });
  const operations = new BoundedLabel(options.maxOperations ?? 200);
  const clients = new BoundedLabel(50, 'unknown');
  const registers = [registry];
  const redisConnections = new Set<RedisHealthLike>();
  const redisDegraded = new Counter({
    name: 'redis_degraded_operations_total',
    help: 'Operations answered by their fallback because Redis was unavailable (a miss, pass-through, the in-process limiter or nonce store), by component.',
    labelNames: ['component'] as const,
    registers,
  });

  const metrics = {
    registry,
    service,
    operations,
    clients,
    requests: new Counter({
      name: 'graphql_requests_total',
      help: 'GraphQL operations answered, by operation, client and outcome (ok or the first error code).',
      labelNames: ['operation', 'client', 'outcome'] as const,
      registers,
    }),
    requestDuration: new Histogram({
      name: 'graphql_request_duration_seconds',
      help: 'Time from the request arriving to the response being ready, by operation and client.',
      labelNames: ['operation', 'client'] as const,
      buckets: DURATION_BUCKETS,
      registers,
    }),
    subgraphFetches: new Counter({
      name: 'subgraph_fetches_total',
      help: 'Subgraph fetches (HTTP requests) the gateway made, by subgraph and outcome.',
      labelNames: ['subgraph', 'outcome'] as const,
      registers,
    }),
    subgraphPlanFetches: new Counter({
      name: 'subgraph_plan_fetches_total',
      help: 'Query plan fetches the subgraph fetches carried, by subgraph: more than subgraph_fetches_total when batched (SUBGRAPH_BATCHING).',
      labelNames: ['subgraph'] as const,
      registers,
    }),
    planExecutions: new Counter({
      name: 'gateway_plan_executions_total',
      help: "Query plans executed, by executor: compiled (gateway/src/plan-execution/) or apollo (@apollo/gateway's executeQueryPlan: PLAN_EXECUTION=apollo, @defer, subscriptions, requests capturing usage traces).",
      labelNames: ['executor'] as const,
      registers,
    }),
    subgraphFetchDuration: new Histogram({
      name: 'subgraph_fetch_duration_seconds',
      help: 'Duration of one subgraph fetch, by subgraph.',
      labelNames: ['subgraph'] as const,
      buckets: DURATION_BUCKETS,
      registers,
    }),
    cacheLookups: new Counter({
      name: 'cache_lookups_total',
      help: 'Lookups in the query plan and persisted query caches, by cache and result (hit or miss).',
      labelNames: ['cache', 'result'] as const,
      registers,
    }),
    unlistedOperations: new Counter({
      name: 'persisted_query_unlisted_total',
      help: "Operations a client under the `log` policy sent that are not in its published manifests, by client.",
      labelNames: ['client'] as const,
      registers,
    }),
    sqlStatements: new Histogram({
      name: 'graphql_sql_statements',
      help: 'SQL statements one request sent, by (client) operation.',
      labelNames: ['operation'] as const,
      buckets: COUNT_BUCKETS,
      registers,
    }),
    batchSize: new Histogram({
      name: 'dataloader_batch_size',
      help: 'Keys per DataLoader batch, by loader and (client) operation.',
      labelNames: ['loader', 'operation'] as const,
      buckets: BATCH_BUCKETS,
      registers,
    }),
    /** Reports a pg pool's use at every scrape. */
    observePool(pool: PoolLike): void {
      new Gauge({
        name: 'db_pool_connections',
        help: 'Connections of the database pool, by state (total, idle, waiting clients, max).',
        labelNames: ['state'] as const,
        registers,
        collect() {
          this.set({ state: 'total' }, pool.totalCount);
          this.set({ state: 'idle' }, pool.idleCount);
          this.set({ state: 'waiting' }, pool.waitingCount);
          this.set({ state: 'max' }, pool.options.max ?? 10);
        },
      });
    },
    /** Reports whether the database is usable at every scrape, and counts its faults as they happen. */
    observeDatabase(health: DatabaseHealthLike): void {
      new Gauge({
        name: 'db_up',
        help: "Whether the service's database is usable: 1, or 0 while its probe or its requests cannot reach it (then /ready answers 503).",
        registers,
        collect() {
          this.set(health.isUp() ? 1 : 0);
        },
      });
      const errors = new Counter({
        name: 'db_errors_total',
        help: 'Failed database calls (statements, connection attempts, connections lost) by code (DATABASE_UNAVAILABLE, DATABASE_TIMEOUT) and reason.',
        labelNames: ['code', 'reason'] as const,
        registers,
      });
      for (const { code, reason, count } of health.errors()) errors.inc({ code, reason }, count);
      health.onError((code, reason) => errors.inc({ code, reason }));
    },
    admissionRejected: new Counter({
      name: 'gateway_admission_rejected_total',
      help: 'Requests refused with 503 SERVER_BUSY before executing, by reason (queue_full, queue_timeout).',
      labelNames: ['reason'] as const,
      registers,
    }),
    operationCost: new Histogram({
      name: 'gateway_operation_estimated_cost',
      help: 'Estimated (static) cost of each operation, by operation and whether a cost limit was enforced on it: the distribution to pick COST_LIMIT from.',
      labelNames: ['operation', 'enforced'] as const,
      buckets: COST_BUCKETS,
      registers,
    }),
    /** Reports the operations executing and waiting, and the bound, at every scrape. */
    observeAdmission(admission: AdmissionLike): void {
      new Gauge({
        name: 'gateway_operations',
        help: 'Operations by state: executing, queued (waiting for a slot), and max (the MAX_CONCURRENT_OPERATIONS bound).',
        labelNames: ['state'] as const,
        registers,
        collect() {
          this.set({ state: 'executing' }, admission.executing());
          this.set({ state: 'queued' }, admission.queued());
          this.set({ state: 'max' }, admission.maxConcurrent);
        },
      });
    },
    redisUp: new Gauge({
      name: 'redis_up',
      help: 'Whether the Redis connection of a component (apq, rate_limit, response_cache, persisted, nonce) is usable: 1, or 0 while its operations fall back.',
      labelNames: ['component'] as const,
      registers,
      collect() {
        for (const connection of redisConnections) this.set({ component: connection.component }, connection.isUp() ? 1 : 0);
      },
    }),
    redisDegraded,
    /** Reports a Redis connection's state at every scrape and counts its degraded operations. */
    observeRedis(connection: RedisHealthLike): void {
      redisConnections.add(connection);
      const labels = { component: connection.component };
      redisDegraded.inc(labels, connection.degradedOperations());
      connection.onDegraded(() => redisDegraded.inc(labels));
    },
    /** GET /metrics in Prometheus' text format. */
    async handler(_req: IncomingMessage, res: ServerResponse): Promise<void> {
      const body = await registry.metrics();
      res.statusCode = 200;
      res.setHeader('content-type', registry.contentType);
      res.end(body);
    },
  };
  return metrics;
}
export type ServiceMetrics = ReturnType<typeof createServiceMetrics>;
