import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { Redis } from 'ioredis';
import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import type { DocumentNode } from 'graphql';
import { createLogger, type Logger } from '@shop/observability';
import { createGraphQLHandler, HttpError, sendHttpError, startServiceServer, type RequestHandler, type ServiceServer } from '@shop/service-kit';
import { createAuthenticator } from './auth.ts';
import { authorizingGateway } from './authz/authorizing-gateway.ts';
import { declareEnforcedSecurityFeatures } from './authz/requirements.ts';
import { authOptions, type GatewayConfig } from './config.ts';
import type { GatewayContext } from './context.ts';
import { identifyClient } from './edge/client.ts';
import { applyCors } from './edge/cors.ts';
import { applyDocumentPolicy, requestFromSearch, searchFromRequest } from './edge/document-policy.ts';
import { createRateLimiter, rateLimitHeaders } from './edge/rate-limit.ts';
import { clientIpOf, requestIdOf } from './edge/request-meta.ts';
import { admissionControl } from './limits/admission.ts';
import { costDirectivesFromSupergraph, type CostDirectives } from './limits/cost.ts';
import { createOperationGuard } from './limits/operation-limits.ts';
import { openPersistedStore } from './persisted/open-store.ts';
import { RedisKeyValueCache } from './persisted/redis-kv-cache.ts';
import { PersistedRegistry } from './persisted/registry.ts';
import { costPlugin } from './plugins/cost.ts';
import { errorsPlugin } from './plugins/errors.ts';
import { gatewayTelemetry } from './observability/telemetry.ts';
import { createSpeedFeatures, withMiddlewares } from './speed/index.ts';
import { createSubgraphFetcher } from './subgraph-data-source.ts';
import { fileSupergraph } from './supergraph/file-supergraph.ts';

export interface RunningGateway {
  readonly url: string;
  readonly server: ServiceServer;
  readonly registry: PersistedRegistry;
  /** Id of the supergraph currently served (changes on hot reload). */
  supergraphId(): string | null;
  close(): Promise<void>;
}

/** Lists without a slicing argument or @listSize are assumed this long when estimating cost. */
const DEFAULT_LIST_SIZE = 10;

export async function startGateway(
  config: GatewayConfig,
  logger: Logger = createLogger('gateway', config.LOG_LEVEL),
): Promise<RunningGateway> {
  const production = config.NODE_ENV === 'production';
  let loadedId: string | null = null;

  const telemetry = gatewayTelemetry({ production });
  // One connection for commands; the persisted store opens its own for pub/sub.
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, enableAutoPipelining: true }) : undefined;
  redis?.on('error', (error) => logger.warn({ err: error }, 'redis error'));

  const registry = new PersistedRegistry(
    openPersistedStore({
      redisUrl: config.REDIS_URL,
      dir: config.PERSISTED_DIR,
      redisPrefix: `${config.REDIS_PREFIX}pq:`,
      onError: (error: unknown) => logger.warn({ err: error }, 'persisted store error'),
    }),
    logger,
    // Published operations keep their own metric labels, never folded into "other".
    (snapshot) => telemetry.metrics.operations.allow([...snapshot.operations.values()].flatMap((ops) => [...ops.values()].map((op) => op.name))),
  );
  await registry.start();

  const subgraphClient = createSubgraphFetcher({
    connections: config.SUBGRAPH_CONNECTIONS,
    timeoutMs: config.SUBGRAPH_TIMEOUT_MS,
    signingSecret: config.INTERNAL_SIGNING_SECRET,
  });
  const speed = createSpeedFeatures<GatewayContext>(config, {
    logger,
    // Called per request only, after `authenticate` below is defined. Scopes are part of the
    // identity: they decide which fields a caller sees.
    identify: async (authorization) => {
      const caller = await authenticate(authorization);
      return caller.userId === null ? null : `${caller.userId}:${[...caller.scopes].sort().join(' ')}`;
    },
  });
  const subgraphFetcher = speed.subgraphFetcher(subgraphClient.fetcher);
  const gateway = new ApolloGateway({
    supergraphSdl: fileSupergraph({
      path: config.SUPERGRAPH_PATH,
      pollMs: config.SUPERGRAPH_POLL_MS,
      logger,
      transform: declareEnforcedSecurityFeatures,
      onLoaded: (id) => {
        loadedId = id;
      },
    }),
    // Validate every supergraph, also in production: a broken file must be rejected, not half-served.
    validateSupergraph: true,
    logger,
    experimental_didResolveQueryPlan: telemetry.didResolveQueryPlan,
    experimental_approximateQueryPlanStoreMiB: config.QUERY_PLAN_CACHE_MB,
    buildService: ({ name, url }) =>
      telemetry.dataSource({
        name,
        url: config.subgraphUrlOverrides[name] ?? url,
        fetcher: subgraphFetcher,
      }),
  });
  const authorizing = authorizingGateway(gateway);
  authorizing.track();
  let costDirectives: CostDirectives = { weights: new Map(), listSizes: new Map() };
  gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    costDirectives = costDirectivesFromSupergraph(coreSupergraphSdl);
  });

  const apollo = new ApolloServer<GatewayContext>({
    gateway: authorizing,
    logger,
    introspection: !production,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: !production,
    allowBatchedHttpRequests: config.MAX_BATCH_SIZE > 1,
    parseOptions: { maxTokens: config.MAX_TOKENS },
    persistedQueries: {
      ttl: config.APQ_TTL_SECONDS,
      ...(redis ? { cache: new RedisKeyValueCache(redis, `${config.REDIS_PREFIX}apq:`, config.APQ_TTL_SECONDS) } : {}),
    },
    documentStore: new InMemoryLRUCache<DocumentNode>({
      maxSize: config.DOCUMENT_CACHE_MB * 2 ** 20,
      sizeCalculation: InMemoryLRUCache.sizeCalculation,
    }),
    plugins: [
      telemetry.plugin,
      ...speed.plugins,
      costPlugin({ limit: config.COST_LIMIT, mode: config.COST_MODE, defaultListSize: DEFAULT_LIST_SIZE, directives: () => costDirectives }),
      errorsPlugin(production),
    ],
  });
  await apollo.start();

  const authenticate = createAuthenticator(authOptions(config));
  const rateLimiter = createRateLimiter(
    {
      perClient: config.RATE_LIMIT_CLIENT,
      perIp: config.RATE_LIMIT_IP,
      windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS,
      redis,
      keyPrefix: `${config.REDIS_PREFIX}rl`,
    },
    logger,
  );
  const guardOperation = createOperationGuard({
    maxTokens: config.MAX_TOKENS,
    maxDepth: config.MAX_DEPTH,
    maxAliases: config.MAX_ALIASES,
    maxRootFields: config.MAX_ROOT_FIELDS,
    maxDirectives: config.MAX_DIRECTIVES,
  });

  const admission = admissionControl({
    maxConcurrent: config.MAX_CONCURRENT_OPERATIONS,
    maxQueued: config.OPERATION_QUEUE_SIZE,
    queueTimeoutMs: config.OPERATION_QUEUE_TIMEOUT_MS,
    heapHighWatermark: config.OPERATION_HEAP_WATERMARK,
    onReject: (reason) => telemetry.metrics.admissionRejected.inc({ reason }),
  });
  telemetry.metrics.observeAdmission(admission);
  // Innermost: cached and deduplicated answers never wait for an execution slot.
  const graphql = telemetry.traced(createGraphQLHandler(withMiddlewares(apollo, [...speed.middlewares, admission]), {
    maxBodyBytes: config.MAX_BODY_BYTES,
    encode: speed.encode,
    async prepare({ req, body }) {
      const requestId = requestIdOf(req);
      const caller = await authenticate(req.headers.authorization);
      const client = identifyClient(req.headers, caller, registry.current(), config.PQ_DEFAULT_POLICY);
      const rate = await rateLimiter.check(clientIpOf(req, config.TRUST_PROXY), client.registered ? client.name : null);

      let persistedQueryId: string | null = null;
      let search: string | undefined;
      const admit = (request: Record<string, unknown>) => {
        const decision = applyDocumentPolicy(request, client, registry);
        if (decision.unlisted) {
          telemetry.metrics.unlistedOperations.inc({ client: telemetry.metrics.clients.value(client.name) });
          logger.warn({ client: client.name, requestId, operationName: request.operationName }, 'operation not in the client\'s manifests');
        }
        persistedQueryId ??= decision.persistedQueryId;
        if (typeof request.query === 'string') guardOperation(request.query);
      };
      if (req.method === 'GET') {
        const url = req.url ?? '';
        const { request, params } = requestFromSearch(url.slice(url.indexOf('?') + 1 || url.length));
        admit(request);
        search = searchFromRequest(request, params);
      } else if (Array.isArray(body)) {
        if (body.length > config.MAX_BATCH_SIZE) {
          throw new GraphQLError(`A batch may hold at most ${config.MAX_BATCH_SIZE} operations; this one has ${body.length}.`, {
            extensions: { code: 'BATCH_TOO_LARGE', http: { status: 400 } },
          });
        }
        for (const request of body) if (request && typeof request === 'object') admit(request as Record<string, unknown>);
      } else if (body && typeof body === 'object') {
        admit(body as Record<string, unknown>);
      }
      return {
        body,
        search,
        headers: { ...rateLimitHeaders(rate), 'x-request-id': requestId },
        context: { caller, client, persistedQueryId, requestId, requestHeaders: req.headers },
      };
    },
  }));

  const handle: RequestHandler = async (req, res) => {
    if (applyCors(req, res, config.CORS_ORIGINS)) return;
    // The whole request, subgraph fetches included, gets one deadline; the client is answered
    // at the deadline even if a subgraph is still working.
    const timer = setTimeout(() => {
      if (!res.headersSent) {
        sendHttpError(res, new HttpError(504, 'REQUEST_TIMEOUT', `The request took longer than ${config.REQUEST_TIMEOUT_MS} ms.`));
      }
    }, config.REQUEST_TIMEOUT_MS);
    try {
      await graphql(req, res);
    } finally {
      clearTimeout(timer);
    }
  };

  const server = await startServiceServer({
    host: config.HOST,
    port: config.PORT,
    logger,
    routes: { '/graphql': handle, '/metrics': telemetry.metricsRoute },
    isReady: () => loadedId !== null,
    drainTimeoutMs: config.DRAIN_TIMEOUT_MS,
  });
  logger.info({ url: `${server.url}/graphql`, supergraph: config.SUPERGRAPH_PATH }, 'gateway listening');

  return {
    url: `${server.url}/graphql`,
    server,
    registry,
    supergraphId: () => loadedId,
    async close() {
      await server.close();
      await apollo.stop();
      await subgraphClient.close();
      await registry.close();
      redis?.disconnect();
      await speed.close();
    },
  };
}
