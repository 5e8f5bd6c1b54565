import { ApolloServer } from '@apollo/server';
import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import type { DocumentNode } from 'graphql';
import { createLogger, type Logger } from '@shop/observability';
import { ConfigError, openRedis, startServiceServer, type RedisConnectionOptions, type ServiceServer } from '@shop/service-kit';
import { serveMetrics } from './telemetry/metrics-listener.ts';
import { federatedGateway } from './apollo/federated-gateway.ts';
import { createAuthenticator } from './auth/authenticate.ts';
import { authOptions, checkSubgraphNames, EXPLORER_PATHS, subgraphResilience, type GatewayConfig } from './config.ts';
import { EXPLORER_ASSET_ROUTE, explorerAssetRoute, explorerAssets } from './edge/explorer.ts';
import type { GatewayContext } from './context.ts';
import { createRateLimiter } from './edge/rate-limit.ts';
import { createEncoder } from './edge/response-encoding.ts';
import { admissionControl } from './limits/admission.ts';
import { openPersistedStore } from './persisted/open-store.ts';
import { RedisKeyValueCache } from './persisted/redis-kv-cache.ts';
import { PersistedRegistry } from './persisted/registry.ts';
import { fileOperationLog, redisOperationLog } from './recording/operation-log.ts';
import { OperationRecorder } from './recording/operation-recorder.ts';
import { apolloPlugins, graphqlRoute, requestStages, subgraphFetcher, type GatewayParts } from './pipeline.ts';
import { inboundDedup } from './sharing/inbound-dedup.ts';
import { OperationKinds } from './sharing/operation-kinds.ts';
import { responseCache } from './sharing/response-cache.ts';
import { memoryStore, redisStore } from './sharing/response-store.ts';
import { resilientFetches } from './subgraph-fetch/resilience.ts';
import { subgraphTransport } from './subgraph-fetch/transport.ts';
import { gatewayTelemetry } from './telemetry/gateway-telemetry.ts';

export interface RunningGateway {
  readonly url: string;
  /** The internal metrics listener (`${metricsUrl}/metrics`); null when it is off or a cluster worker's primary serves it. */
  readonly metricsUrl: string | null;
  readonly server: ServiceServer;
  readonly registry: PersistedRegistry;
  /** Id of the supergraph currently served (changes on hot reload). */
  supergraphId(): string | null;
  /** The first step of a shutdown: /ready answers 503 while requests are still served (see ServiceServer). */
  startDraining(): void;
  /** Closes the listeners and lets in-flight requests finish (DRAIN_TIMEOUT_MS), then Apollo, the subgraph pool, Redis. */
  close(): Promise<void>;
}

/**
 * Builds the gateway's parts from the configuration and serves the request pipeline
 * (pipeline.ts) on /graphql, with /health and /ready beside it; /metrics on an internal listener.
 */
export async function startGateway(config: GatewayConfig, logger: Logger = createLogger('gateway', config.LOG_LEVEL)): Promise<RunningGateway> {
  const telemetry = gatewayTelemetry({ production: config.NODE_ENV === 'production' });
  // One connection per use, so each is measured and degrades on its own (redis_up{component}).
  const timeouts = { logger, commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS, connectTimeoutMs: config.REDIS_CONNECT_TIMEOUT_MS };
  const redisFor = (options: Omit<RedisConnectionOptions, keyof typeof timeouts>) => {
    if (!config.REDIS_URL) return undefined;
    const connection = openRedis(config.REDIS_URL, { ...timeouts, ...options });
    telemetry.metrics.observeRedis(connection);
    return connection;
  };
  const apqRedis = redisFor({ component: 'apq', degradesTo: 'answers PERSISTED_QUERY_NOT_FOUND to hash-only queries (clients resend the query)', autoPipelining: true });
  const rateLimitRedis = redisFor({ component: 'rate_limit', degradesTo: 'counts rate limits in this process only' });
  const responseRedis =
    config.RESPONSE_CACHE === 'redis' ? redisFor({ component: 'response_cache', degradesTo: 'is passed through (answers are executed, not stored)', autoPipelining: true }) : undefined;
  const recordingRedis = config.OPERATION_RECORDING
    ? redisFor({ component: 'operation_recording', degradesTo: 'keeps recorded operations in memory for the next flush' })
    : undefined;

  const store = openPersistedStore({ redisUrl: config.REDIS_URL, dir: config.PERSISTED_DIR, redisPrefix: `${config.REDIS_PREFIX}pq:`, ...timeouts });
  if (store.health) telemetry.metrics.observeRedis(store.health);
  const registry = new PersistedRegistry(
    store,
    logger,
    // Published operations keep their own metric labels, never folded into "other".
    (snapshot) => telemetry.metrics.operations.allow([...snapshot.operations.values()].flatMap((ops) => [...ops.values()].map((op) => op.name))),
  );
  // The other connections come up meanwhile; until they do, their operations fall back.
  const closeRedis = () => Promise.all([apqRedis?.close(), rateLimitRedis?.close(), responseRedis?.close(), recordingRedis?.close()]);
  try {
    await Promise.all([registry.start(), apqRedis?.settled(), rateLimitRedis?.settled(), responseRedis?.settled(), recordingRedis?.settled()]);
  } catch (error) {
    // Without its clients and manifests the gateway cannot tell who may call: it does not start.
    await Promise.all([closeRedis(), store.close()]);
    throw error;
  }

  const operationRecorder = config.OPERATION_RECORDING
    ? new OperationRecorder({
        log: recordingRedis ? redisOperationLog(recordingRedis, `${config.REDIS_PREFIX}ops:`) : fileOperationLog(config.PERSISTED_DIR),
        logger,
        flushIntervalMs: config.OPERATION_RECORDING_FLUSH_MS,
        retentionMs: config.OPERATION_RECORDING_RETENTION_DAYS * 86_400_000,
        maxDocuments: config.OPERATION_RECORDING_MAX_DOCUMENTS,
        maxPending: config.OPERATION_RECORDING_MAX_DOCUMENTS,
        onFlushFailed: () => telemetry.recording.flushFailures.inc(),
        onDropped: () => telemetry.recording.dropped.inc(),
      })
    : null;

  const sharing = config.INBOUND_DEDUP || config.RESPONSE_CACHE !== 'off';
  const operationKinds = sharing ? new OperationKinds() : null;
  const responseStore =
    responseRedis
      ? redisStore(responseRedis)
      : config.RESPONSE_CACHE === 'memory'
        ? memoryStore(config.RESPONSE_CACHE_MAX_MB * 2 ** 20)
        : null;
  const admission = admissionControl({
    maxConcurrent: config.MAX_CONCURRENT_OPERATIONS,
    maxQueued: config.OPERATION_QUEUE_SIZE,
    queueTimeoutMs: config.OPERATION_QUEUE_TIMEOUT_MS,
    heapHighWatermark: config.OPERATION_HEAP_WATERMARK,
    onReject: (reason) => telemetry.metrics.admissionRejected.inc({ reason }),
  });
  telemetry.metrics.observeAdmission(admission);

  const parts: GatewayParts = {
    config,
    logger,
    telemetry,
    authenticator: createAuthenticator(authOptions(config)),
    registry,
    rateLimiter: createRateLimiter(
      {
        perIp: config.RATE_LIMIT_IP,
        perClient: config.RATE_LIMIT_CLIENT,
        clientCeiling: config.RATE_LIMIT_CLIENT_CEILING,
        authFailures: config.RATE_LIMIT_AUTH_FAILURES,
        windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS,
        redis: rateLimitRedis,
        keyPrefix: `${config.REDIS_PREFIX}rl`,
      },
      logger,
    ),
    operationKinds,
    inboundDedup: operationKinds && config.INBOUND_DEDUP ? inboundDedup(operationKinds) : null,
    responseCache:
      operationKinds && responseStore ? responseCache({ store: responseStore, kinds: operationKinds, logger, prefix: config.RESPONSE_CACHE_NAMESPACE }) : null,
    admission,
    operationRecorder,
    encoder: config.COMPRESSION || config.INBOUND_DEDUP ? createEncoder({ compress: config.COMPRESSION, minBytes: config.COMPRESSION_MIN_BYTES }) : null,
    explorerAssets: config.EXPLORER ? explorerAssets(EXPLORER_PATHS, { build: config.NODE_ENV !== 'production', logger }) : null,
  };

  const resilience = resilientFetches({ settingsOf: (name) => subgraphResilience(config, name), logger, events: telemetry.faults.events });
  telemetry.faults.observeCircuits(resilience.circuits);
  // Each attempt's own timeout aborts it first; the pool's are a backstop above the longest one.
  const longestTimeoutMs = Math.max(config.SUBGRAPH_TIMEOUT_MS, ...Object.values(config.SUBGRAPH_RESILIENCE_OVERRIDES).map((o) => o.timeoutMs ?? 0));
  const transport = subgraphTransport({ connections: config.SUBGRAPH_CONNECTIONS, timeoutMs: longestTimeoutMs + 1000 });
  const federated = federatedGateway(config, { logger, telemetry, fetcher: subgraphFetcher(config, transport.fetcher, resilience) });
  const apollo = new ApolloServer<GatewayContext>({
    gateway: federated.gateway,
    logger,
    introspection: config.NODE_ENV !== 'production',
    hideSchemaDetailsFromClientErrors: config.NODE_ENV === 'production',
    csrfPrevention: true,
    includeStacktraceInErrorResponses: config.NODE_ENV !== 'production',
    allowBatchedHttpRequests: config.MAX_BATCH_SIZE > 1,
    parseOptions: { maxTokens: config.MAX_TOKENS },
    persistedQueries: {
      ttl: config.APQ_TTL_SECONDS,
      ...(apqRedis ? { cache: new RedisKeyValueCache(apqRedis, `${config.REDIS_PREFIX}apq:`, config.APQ_TTL_SECONDS) } : {}),
    },
    documentStore: new InMemoryLRUCache<DocumentNode>({ maxSize: config.DOCUMENT_CACHE_MB * 2 ** 20, sizeCalculation: InMemoryLRUCache.sizeCalculation }),
    plugins: apolloPlugins(parts, federated.costDirectives),
    // Shutdown is runService's (drain first, then stop Apollo): Apollo's own SIGINT/SIGTERM handlers
    // would stop it at once, failing the requests still in flight, and race that drain.
    stopOnTerminationSignals: false,
  });
  await apollo.start();
  try {
    checkSubgraphNames(config, federated.subgraphNames());
    // Production serves only a finished build: a missing one stops the start, not the first page load.
    if (parts.explorerAssets && config.NODE_ENV === 'production') {
      await parts.explorerAssets().catch((error: unknown) => {
        throw new ConfigError([`EXPLORER: ${(error as Error).message}`]);
      });
    }
  } catch (error) {
    await apollo.stop();
    resilience.close();
    await transport.close();
    await registry.close();
    await operationRecorder?.close();
    await Promise.all([closeRedis(), responseStore?.close()]);
    throw error;
  }

  const server = await startServiceServer({
    host: config.HOST,
    port: config.PORT,
    logger,
    routes: {
      '/graphql': graphqlRoute(parts, requestStages(parts, apollo)),
      ...(parts.explorerAssets ? { [EXPLORER_ASSET_ROUTE]: explorerAssetRoute(parts.explorerAssets) } : {}),
    },
    isReady: () => federated.supergraphId() !== null,
    drainTimeoutMs: config.DRAIN_TIMEOUT_MS,
  });
  const metricsServer = await serveMetrics(config, telemetry, logger).catch(async (error: unknown) => {
    await server.close();
    throw error;
  });
  logger.info({ url: `${server.url}/graphql`, metrics: metricsServer ? `${metricsServer.url}/metrics` : null, supergraph: config.SUPERGRAPH_PATH }, 'gateway listening');

  return {
    url: `${server.url}/graphql`,
    metricsUrl: metricsServer?.url ?? null,
    server,
    registry,
    supergraphId: federated.supergraphId,
    startDraining: () => server.startDraining(),
    async close() {
      // The metrics listener is scraped until the public one has drained: the drain shows in metrics.
      await server.close();
      await metricsServer?.close();
      await apollo.stop();
      resilience.close();
      await transport.close();
      await registry.close();
      // After Apollo stopped: the last executions' counts are written while Redis is still open.
      await operationRecorder?.close();
      await Promise.all([closeRedis(), responseStore?.close()]);
      logger.info('gateway closed: Apollo, the subgraph connections and Redis');
    },
  };
}
