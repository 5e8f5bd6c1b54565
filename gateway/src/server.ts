import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import type { DocumentNode } from 'graphql';
import { createLogger, type Logger } from '@shop/observability';
import { createGraphQLHandler, startServiceServer, type ServiceServer } from '@shop/service-kit';
import { createAuthenticator } from './auth.ts';
import type { GatewayConfig } from './config.ts';
import type { GatewayContext } from './context.ts';
import { createSpeedFeatures, withMiddlewares } from './speed/index.ts';
import { createSubgraphFetcher, SubgraphDataSource } from './subgraph-data-source.ts';
import { fileSupergraph } from './supergraph/file-supergraph.ts';

export interface RunningGateway {
  readonly url: string;
  readonly server: ServiceServer;
  /** Id of the supergraph currently served (changes on hot reload). */
  supergraphId(): string | null;
  close(): Promise<void>;
}

export async function startGateway(
  config: GatewayConfig,
  logger: Logger = createLogger('gateway', config.LOG_LEVEL),
): Promise<RunningGateway> {
  const production = config.NODE_ENV === 'production';
  let loadedId: string | null = null;
  const subgraphClient = createSubgraphFetcher({
    connections: config.SUBGRAPH_CONNECTIONS,
    timeoutMs: config.SUBGRAPH_TIMEOUT_MS,
  });
  const speed = createSpeedFeatures<GatewayContext>(config, {
    logger,
    // Called per request only, after `authenticate` below is defined.
    identify: async (authorization) => (await authenticate(authorization)).userId,
  });
  const subgraphFetcher = speed.subgraphFetcher(subgraphClient.fetcher);

  // Unless asked for, @apollo/gateway 2.14 sends usage metrics to Apollo and, to label them, probes
  // cloud metadata endpoints at start-up: network traffic and work no deployment here asked for.
  process.env.APOLLO_TELEMETRY_DISABLED ??= 'true';
  const gateway = new ApolloGateway({
    supergraphSdl: fileSupergraph({
      path: config.SUPERGRAPH_PATH,
      pollMs: config.SUPERGRAPH_POLL_MS,
      logger,
      onLoaded: (id) => {
        loadedId = id;
      },
    }),
    // Validate every supergraph, also in production: a broken file must be rejected, not half-served.
    validateSupergraph: true,
    logger,
    experimental_approximateQueryPlanStoreMiB: config.QUERY_PLAN_CACHE_MB,
    buildService: ({ name, url }) =>
      new SubgraphDataSource({
        url: config.subgraphUrlOverrides[name] ?? url,
        fetcher: subgraphFetcher,
      }),
  });

  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    logger,
    introspection: !production,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: !production,
    documentStore: new InMemoryLRUCache<DocumentNode>({
      maxSize: config.DOCUMENT_CACHE_MB * 2 ** 20,
      sizeCalculation: InMemoryLRUCache.sizeCalculation,
    }),
    plugins: speed.plugins,
  });
  await apollo.start();

  const authenticate = createAuthenticator({
    secret: config.AUTH_JWT_SECRET,
    issuer: config.AUTH_JWT_ISSUER,
    audience: config.AUTH_JWT_AUDIENCE,
  });
  const graphql = createGraphQLHandler(withMiddlewares(apollo, speed.middlewares), {
    maxBodyBytes: config.MAX_BODY_BYTES,
    encode: speed.encode,
    context: async ({ req }) => ({
      caller: await authenticate(req.headers.authorization),
      requestHeaders: req.headers,
    }),
  });
  const server = await startServiceServer({
    host: config.HOST,
    port: config.PORT,
    logger,
    routes: { '/graphql': graphql },
    isReady: () => loadedId !== null,
    drainTimeoutMs: config.DRAIN_TIMEOUT_MS,
  });
  logger.info({ url: `${server.url}/graphql`, supergraph: config.SUPERGRAPH_PATH }, 'gateway listening');

  return {
    url: `${server.url}/graphql`,
    server,
    supergraphId: () => loadedId,
    async close() {
      await server.close();
      await apollo.stop();
      await subgraphClient.close();
      await speed.close();
    },
  };
}
