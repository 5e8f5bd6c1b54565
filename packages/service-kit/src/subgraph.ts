import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { parse, type DocumentNode } from 'graphql';
import { z } from 'zod';
import type { Logger } from '@shop/observability';
import type { PrismaPg } from '@prisma/adapter-pg';
import { openDatabase, type Database } from './database/prisma.ts';
import { ConfigError, env } from './env.ts';
import { createGraphQLHandler } from './http/graphql-handler.ts';
import { startServiceServer, type ServiceServer } from './http/service-server.ts';
import type { Identity } from './identity.ts';
import { ANONYMOUS_CLAIMS, SIGNATURE_HEADER, verifyInternalRequest } from './internal-auth.ts';
import { subgraphTelemetry } from './telemetry.ts';
import type { ServiceMetrics } from '@shop/observability';

/** The environment every subgraph reads; each adds its own variables to it. */
export const subgraphEnv = (defaultPort: number) =>
  z.object({
    NODE_ENV: env.nodeEnv(),
    HOST: env.host(),
    PORT: env.port(defaultPort),
    DATABASE_URL: env.postgresUrl(),
    DATABASE_POOL_MAX: env.positiveInt(10, 1000),
    // Only the gateway calls subgraphs, and entity batches of a big plan are legitimately large.
    MAX_BODY_BYTES: env.positiveInt(16 * 1024 * 1024, 256 * 1024 * 1024),
    LOG_LEVEL: env.logLevel(),
    /** Shared with the gateway, which signs every request with it; at least 32 characters. */
    INTERNAL_SIGNING_SECRET: env.secret(),
    /** How old a gateway signature may be (clock skew between hosts included). */
    SIGNATURE_MAX_AGE_SECONDS: env.positiveInt(30, 3600),
    /**
     * `false` also serves unsigned requests (as anonymous): only so that gateways which cannot sign
     * can be benchmarked against ours. Refused in production.
     */
    REQUIRE_SIGNATURE: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  });
export type SubgraphEnv = z.infer<ReturnType<typeof subgraphEnv>>;

export function loadTypeDefs(schemaFileUrl: URL): DocumentNode {
  return parse(readFileSync(schemaFileUrl, 'utf8'));
}

export interface SubgraphDefinition<Ctx extends object> {
  name: string;
  typeDefs: DocumentNode;
  resolvers: GraphQLResolverMap<Ctx>;
  /** Called once per request: this is where the request's DataLoaders are made. */
  createContext(identity: Identity): Ctx;
}

export interface SubgraphServerOptions {
  host: string;
  port: number;
  logger: Logger;
  production: boolean;
  maxBodyBytes: number;
  /**
   * How requests are authenticated: signed by the gateway with `secret`. With `required: false`
   * an unsigned request is served as anonymous (a signed one is still verified), and null
   * serves everyone as anonymous: both only for benchmarking gateways that cannot sign.
   */
  signature: { secret: string; required: boolean; maxAgeSeconds: number } | null;
}

export interface RunningSubgraph {
  readonly url: string;
  readonly server: ServiceServer;
  readonly metrics: ServiceMetrics;
  close(): Promise<void>;
}

export async function startSubgraphServer<Ctx extends object>(
  definition: SubgraphDefinition<Ctx>,
  options: SubgraphServerOptions,
): Promise<RunningSubgraph> {
  const telemetry = subgraphTelemetry<Ctx>(definition.name, options.production);
  const apollo = new ApolloServer<Ctx>({
    schema: buildSubgraphSchema({
      typeDefs: definition.typeDefs,
      resolvers: telemetry.traceResolvers(definition.resolvers) as GraphQLResolverMap<unknown>,
    }),
    includeStacktraceInErrorResponses: !options.production,
    // The gateway reads the subgraph SDL through _service, not introspection.
    introspection: !options.production,
    logger: options.logger,
    // Apollo's inline traces (ftv1) cost on every request and nothing here reads them.
    plugins: [ApolloServerPluginInlineTraceDisabled(), telemetry.plugin],
  });
  await apollo.start();

  const graphql = telemetry.traced(
    createGraphQLHandler(apollo, {
      maxBodyBytes: options.maxBodyBytes,
      prepare: async ({ req, rawBody, body }) => {
        const { signature } = options;
        const identity =
          signature === null || (!signature.required && req.headers[SIGNATURE_HEADER] === undefined)
            ? ANONYMOUS_CLAIMS
            : verifyInternalRequest(signature.secret, req.headers, rawBody, { maxAgeSeconds: signature.maxAgeSeconds });
        return { body, context: definition.createContext(identity) };
      },
    }),
  );
  const server = await startServiceServer({
    host: options.host,
    port: options.port,
    logger: options.logger,
    routes: { '/graphql': graphql, '/': graphql, '/metrics': telemetry.metricsRoute },
  });
  options.logger.info({ url: `${server.url}/graphql` }, `${definition.name} subgraph listening`);

  return {
    url: `${server.url}/graphql`,
    server,
    metrics: telemetry.metrics,
    async close() {
      await server.close();
      await apollo.stop();
    },
  };
}

export interface DatabaseSubgraph<Client> extends RunningSubgraph {
  readonly db: Database<Client>;
}

/**
 * Opens the subgraph's own database and serves it: what every Prisma-backed subgraph's
 * entry point and the integration tests both call.
 */
export async function startDatabaseSubgraph<Client extends { $disconnect(): Promise<void> }, Ctx extends object>(
  config: SubgraphEnv,
  logger: Logger,
  PrismaClient: new (options: { adapter: PrismaPg }) => Client,
  define: (prisma: Client) => SubgraphDefinition<Ctx>,
): Promise<DatabaseSubgraph<Client>> {
  if (!config.REQUIRE_SIGNATURE && config.NODE_ENV === 'production') {
    throw new ConfigError(['REQUIRE_SIGNATURE: must not be false in production (anyone who reaches the subgraph could use it)']);
  }
  const db = openDatabase(PrismaClient, config.DATABASE_URL, config.DATABASE_POOL_MAX);
  try {
    const running = await startSubgraphServer(define(db.prisma), {
      host: config.HOST,
      port: config.PORT,
      logger,
      production: config.NODE_ENV === 'production',
      maxBodyBytes: config.MAX_BODY_BYTES,
      signature: {
        secret: config.INTERNAL_SIGNING_SECRET,
        required: config.REQUIRE_SIGNATURE,
        maxAgeSeconds: config.SIGNATURE_MAX_AGE_SECONDS,
      },
    });
    running.metrics.observePool(db.pool);
    return {
      url: running.url,
      server: running.server,
      metrics: running.metrics,
      db,
      async close() {
        await running.close();
        await db.close();
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}
