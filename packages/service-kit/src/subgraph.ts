import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type DocumentNode, type GraphQLResolveInfo, type GraphQLScalarType } from 'graphql';
import { z } from 'zod';
import { createLogger, type Logger } from '@shop/observability';
import type { PrismaPg } from '@prisma/adapter-pg';
import { DATABASE_DEFAULTS, openDatabase, type Database } from './database/prisma.ts';
import { formatDatabaseErrors } from './database/database-errors.ts';
import { ConfigError, env, loadConfig } from './env.ts';
import { createGraphQLHandler } from './http/graphql-handler.ts';
import { startServiceServer, type ServiceServer } from './http/service-server.ts';
import type { Identity } from './identity.ts';
import { HttpError } from './http/errors.ts';
import {
  ANONYMOUS_CLAIMS,
  createInternalVerifier,
  INTERNAL_TOKEN_HEADER,
  memoryNonceStore,
  redisNonceStore,
  trustedKeysSchema,
  type NonceStore,
  type TrustedKeys,
} from './internal-auth.ts';
import { runService } from './main.ts';
import { subgraphTelemetry } from './telemetry.ts';
import { openRedis, REDIS_DEFAULTS } from './redis-connection.ts';
import type { ServiceMetrics } from '@shop/observability';

/** The environment every subgraph reads; each adds its own variables to it. */
export const subgraphEnv = (defaultPort: number) =>
  z.object({
    NODE_ENV: env.nodeEnv(),
    HOST: env.host(),
    PORT: env.port(defaultPort),
    DATABASE_URL: env.postgresUrl(),
    DATABASE_POOL_MAX: env.positiveInt(DATABASE_DEFAULTS.poolMax, 1000),
    /**
     * The longest setting up a database connection, or waiting for a pooled one, may take: what a
     * hung or unreachable database costs a request before it is answered DATABASE_UNAVAILABLE.
     */
    DATABASE_CONNECT_TIMEOUT_MS: env.positiveInt(DATABASE_DEFAULTS.connectTimeoutMs, 60_000),
    /** The server cancels a statement that runs longer; the request is answered DATABASE_TIMEOUT. */
    DATABASE_STATEMENT_TIMEOUT_MS: env.positiveInt(DATABASE_DEFAULTS.statementTimeoutMs, 600_000),
    /** How often `SELECT 1` checks the database for /ready and `db_up`. */
    DATABASE_PROBE_INTERVAL_MS: env.positiveInt(DATABASE_DEFAULTS.probeIntervalMs, 60_000),
    // Only the gateway calls subgraphs, and entity batches of a big plan are legitimately large.
    MAX_BODY_BYTES: env.positiveInt(16 * 1024 * 1024, 256 * 1024 * 1024),
    LOG_LEVEL: env.logLevel(),
    /**
     * The public keys this subgraph accepts internal tokens from, by issuer:
     * `{"gateway":{"keys":[...]},"orders":{"keys":[...]}}`. Only the gateway's may carry a user.
     */
    INTERNAL_TRUSTED_KEYS: trustedKeysSchema,
    /** How far an internal token's issue time may be from this host's clock, either way. */
    INTERNAL_TOKEN_MAX_SKEW_SECONDS: env.positiveInt(5, 60),
    /** Redis where the nonces of used tokens are remembered, so replicas refuse a replay alike; in process without it. */
    REDIS_URL: env.redisUrl().optional(),
    /** The longest a Redis command may take before the in-process nonce record decides alone. */
    REDIS_COMMAND_TIMEOUT_MS: env.positiveInt(REDIS_DEFAULTS.commandTimeoutMs, 60_000),
    /** The longest one attempt to (re)connect to Redis may take. */
    REDIS_CONNECT_TIMEOUT_MS: env.positiveInt(REDIS_DEFAULTS.connectTimeoutMs, 60_000),
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

/**
 * The resolver map `buildSubgraphSchema` takes, named through its public signature: the type
 * itself is only exported from the package's internals.
 */
type ApolloResolverMap = NonNullable<Extract<Parameters<typeof buildSubgraphSchema>[0], { typeDefs: unknown }>['resolvers']>;

/**
 * A field resolver, or one of the resolvers graphql-js and federation call without arguments
 * (`__resolveReference`, `__isTypeOf`, `__resolveType`: parent, context, info). Parents and
 * arguments are `never` so any declared shape fits; the context is what must match.
 */
export type ContextResolver<Ctx> =
  | ((parent: never, args: never, context: Ctx, info: GraphQLResolveInfo) => unknown)
  | ((parent: never, context: Ctx, info: GraphQLResolveInfo) => unknown);

/**
 * Resolvers by type name: a custom scalar, or resolvers by field name. GraphQL Code Generator's
 * `Resolvers<Context>` fits it when `Ctx` satisfies `Context`, so a resolver that expects more
 * than `createContext` makes does not compile.
 */
export interface ResolverMap<Ctx> {
  readonly [typeName: string]: GraphQLScalarType | { readonly [fieldName: string]: ContextResolver<Ctx> | undefined } | undefined;
}

export interface SubgraphDefinition<Ctx extends object> {
  name: string;
  typeDefs: DocumentNode;
  resolvers: ResolverMap<Ctx>;
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
   * How requests are authenticated: an internal token signed by a key in `trustedKeys`. With
   * `required: false` a request without a token is served as anonymous (a token is still
   * verified), and null serves everyone as anonymous: both only for benchmarking gateways that
   * cannot sign. `nonces` defaults to an in-process store.
   */
  signature: { trustedKeys: TrustedKeys; required: boolean; maxSkewSeconds: number; nonces?: NonceStore } | null;
  /** Why the subgraph cannot serve now (its database is down), or null: /ready answers 503 with it. */
  notReadyReason?: () => string | null;
}

export interface RunningSubgraph {
  readonly url: string;
  readonly server: ServiceServer;
  readonly metrics: ServiceMetrics;
  /** The first step of a shutdown: /ready answers 503 while requests are still served (see ServiceServer). */
  startDraining(): void;
  close(): Promise<void>;
}

export async function startSubgraphServer<Ctx extends object>(
  definition: SubgraphDefinition<Ctx>,
  options: SubgraphServerOptions,
): Promise<RunningSubgraph> {
  const telemetry = subgraphTelemetry<Ctx>(definition.name, options.production);
  const { signature } = options;
  const nonces = signature ? (signature.nonces ?? memoryNonceStore()) : null;
  const verify =
    signature && nonces
      ? createInternalVerifier({ audience: definition.name, trustedKeys: signature.trustedKeys, maxSkewSeconds: signature.maxSkewSeconds, nonces })
      : null;
  const apollo = new ApolloServer<Ctx>({
    schema: buildSubgraphSchema({
      typeDefs: definition.typeDefs,
      // graphql-js calls every resolver with the context createContext made, which ResolverMap<Ctx> checked.
      resolvers: telemetry.traceResolvers(definition.resolvers) as ApolloResolverMap,
    }),
    includeStacktraceInErrorResponses: !options.production,
    // The gateway reads the subgraph SDL through _service, not introspection.
    introspection: !options.production,
    logger: options.logger,
    // A resolver's database fault is answered with a stable code and a message for people, never the driver's (it names the server).
    formatError: formatDatabaseErrors(definition.name),
    // Apollo's inline traces (ftv1) cost on every request and nothing here reads them.
    plugins: [ApolloServerPluginInlineTraceDisabled(), telemetry.plugin],
    // Shutdown is runService's (drain first, then stop Apollo): Apollo's own SIGINT/SIGTERM handlers
    // would stop it at once, failing the requests still in flight, and race that drain.
    stopOnTerminationSignals: false,
  });
  await apollo.start();

  const graphql = telemetry.traced(
    createGraphQLHandler(apollo, {
      maxBodyBytes: options.maxBodyBytes,
      prepare: async ({ req, rawBody, body }) => {
        // The gateway always POSTs; a GET would carry its operation in the query string, outside any body hash.
        if (req.method !== 'POST') throw new HttpError(401, 'INTERNAL_POST_ONLY', 'This service answers only POST requests from the gateway.');
        const token = req.headers[INTERNAL_TOKEN_HEADER];
        const identity =
          verify === null || (!signature?.required && token === undefined)
            ? ANONYMOUS_CLAIMS
            : await verify({ token: Array.isArray(token) ? token[0] : token, method: req.method, target: req.url ?? '/', body: rawBody });
        return { body, context: definition.createContext(identity) };
      },
    }),
  );
  const server = await startServiceServer({
    host: options.host,
    port: options.port,
    logger: options.logger,
    routes: { '/graphql': graphql, '/': graphql, '/metrics': telemetry.metricsRoute },
    ...(options.notReadyReason ? { notReadyReason: options.notReadyReason } : {}),
  });
  options.logger.info({ url: `${server.url}/graphql` }, `${definition.name} subgraph listening`);

  return {
    url: `${server.url}/graphql`,
    server,
    metrics: telemetry.metrics,
    startDraining: () => server.startDraining(),
    async close() {
      await server.close();
      await apollo.stop();
      await nonces?.close();
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
  name: string,
  config: SubgraphEnv,
  logger: Logger,
  PrismaClient: new (options: { adapter: PrismaPg }) => Client,
  define: (prisma: Client) => SubgraphDefinition<Ctx>,
): Promise<DatabaseSubgraph<Client>> {
  if (!config.REQUIRE_SIGNATURE && config.NODE_ENV === 'production') {
    throw new ConfigError(['REQUIRE_SIGNATURE: must not be false in production (anyone who reaches the subgraph could use it)']);
  }
  const db = openDatabase(PrismaClient, config.DATABASE_URL, {
    service: name,
    poolMax: config.DATABASE_POOL_MAX,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    probeIntervalMs: config.DATABASE_PROBE_INTERVAL_MS,
    logger,
  });
  const nonceRedis = config.REDIS_URL
    ? openRedis(config.REDIS_URL, {
        component: 'nonce',
        logger,
        degradesTo: 'checks internal token nonces in this process only',
        commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
        connectTimeoutMs: config.REDIS_CONNECT_TIMEOUT_MS,
      })
    : undefined;
  const nonces = nonceRedis ? redisNonceStore(nonceRedis, 'shop:internal-nonce:') : memoryNonceStore();
  try {
    const running = await startSubgraphServer(define(db.prisma), {
      host: config.HOST,
      port: config.PORT,
      logger,
      production: config.NODE_ENV === 'production',
      maxBodyBytes: config.MAX_BODY_BYTES,
      signature: {
        trustedKeys: config.INTERNAL_TRUSTED_KEYS,
        required: config.REQUIRE_SIGNATURE,
        maxSkewSeconds: config.INTERNAL_TOKEN_MAX_SKEW_SECONDS,
        nonces,
      },
      // Not ready while the database is down; still alive (/health 200): a restart would not bring it back.
      notReadyReason: () => db.health.notReadyReason(),
    });
    let closing: Promise<void> | undefined;
    running.metrics.observePool(db.pool);
    running.metrics.observeDatabase(db.health);
    if (nonceRedis) running.metrics.observeRedis(nonceRedis);
    return {
      url: running.url,
      server: running.server,
      metrics: running.metrics,
      db,
      startDraining: () => running.startDraining(),
      // Once, whoever asks (a signal racing a test's or a tool's own shutdown): a second end() of the pool throws.
      close: () =>
        (closing ??= (async () => {
          await running.close();
          await db.close();
        })()),
    };
  } catch (error) {
    await nonces.close();
    await db.close();
    throw error;
  }
}

interface PrismaLike {
  $disconnect(): Promise<void>;
}

/**
 * What every resolver of a database subgraph receives: the caller, the subgraph's Prisma client
 * and this request's DataLoaders, plus the parts the subgraph adds (`Extra`). A subgraph names
 * it for GraphQL Code Generator's `contextType`: `SubgraphContext<PrismaClient, Loaders>`.
 */
export type SubgraphContext<Client, Loaders, Extra extends object = Record<never, never>> = {
  identity: Identity;
  prisma: Client;
  loaders: Loaders;
} & Extra;

const subgraphEnvWith = <Shape extends z.ZodRawShape>(defaultPort: number, shape: Shape) => subgraphEnv(defaultPort).extend(shape);
/** The environment of a subgraph that reads `Shape`'s variables beside every subgraph's. */
export type SubgraphEnvWith<Shape extends z.ZodRawShape> = ReturnType<typeof subgraphEnvWith<Shape>>;

/** Everything that is a subgraph's own; `defineSubgraph` supplies the rest. */
export interface SubgraphModule<Client extends PrismaLike, Loaders, Shape extends z.ZodRawShape, Extra extends object> {
  name: string;
  /** PORT when the environment does not set it. */
  port: number;
  /** Its schema.graphql, resolved from the subgraph's own module so that it holds once bundled too. */
  schema: URL;
  PrismaClient: new (options: { adapter: PrismaPg }) => Client;
  /** Called for each request: a DataLoader batches and caches within one request only. */
  loaders: (prisma: Client) => Loaders;
  /**
   * Typed by the subgraph's generated `Resolvers`, whose context type it declares from these same
   * parts (`SubgraphContext<PrismaClient, Loaders, Extra>`). Not checked against them here: once
   * anything else in this argument mentions `Extra`, TypeScript fixes it before inferring it from
   * a `context` arrow, and would reject correct code.
   */
  resolvers: ResolverMap<never>;
  /** Environment variables of this subgraph only, validated with every subgraph's. */
  env?: Shape;
  /** Context parts of this subgraph only, made once at start from its configuration. */
  context?: (config: z.infer<SubgraphEnvWith<Shape>>, logger: Logger) => Extra;
  /**
   * Work the subgraph does on its own besides answering requests (e.g. relaying an outbox),
   * started once it serves and stopped before its database closes.
   */
  worker?: (parts: { config: z.infer<SubgraphEnvWith<Shape>>; prisma: Client; logger: Logger; metrics: ServiceMetrics; context: Extra }) => BackgroundWorker;
}

/** A subgraph's own background work (see SubgraphModule.worker). */
export interface BackgroundWorker {
  /** Finishes the round in progress, starts no other; resolves when nothing more will run. */
  stop(): Promise<void>;
}

export interface Subgraph<Client, Shape extends z.ZodRawShape> {
  readonly name: string;
  readonly env: SubgraphEnvWith<Shape>;
  /** Opens the database and serves; what the entry point, the tests and the tools call. */
  start(config: z.infer<SubgraphEnvWith<Shape>>, logger?: Logger): Promise<DatabaseSubgraph<Client>>;
  /**
   * The process entry point: configuration from the environment (exit 78 when invalid), then
   * serve until SIGTERM or SIGINT drains it. Tracing must already be registered by then.
   */
  main(): Promise<void>;
}

/**
 * A Prisma-backed subgraph from its own parts: its environment, start-up, entry point and
 * per-request context are the same for every subgraph, so they are made here.
 */
export function defineSubgraph<
  Client extends PrismaLike,
  Loaders,
  Shape extends z.ZodRawShape = Record<never, never>,
  Extra extends object = Record<never, never>,
>(module: SubgraphModule<Client, Loaders, Shape, Extra>): Subgraph<Client, Shape> {
  type Config = z.infer<SubgraphEnvWith<Shape>>;
  const { name, PrismaClient, loaders, resolvers } = module;
  const envSchema = subgraphEnvWith(module.port, module.env ?? ({} as Shape));
  // Every subgraph's variables are in the config by construction; zod's types cannot show it through a generic extension.
  const common = (config: Config) => config as SubgraphEnv;
  const typeDefs = loadTypeDefs(module.schema);

  const start = async (config: Config, logger: Logger = createLogger(name, common(config).LOG_LEVEL)): Promise<DatabaseSubgraph<Client>> => {
    const extra = module.context ? module.context(config, logger) : ({} as Extra);
    const service = await startDatabaseSubgraph(name, common(config), logger, PrismaClient, (prisma) => ({
      name,
      typeDefs,
      resolvers: resolvers as ResolverMap<SubgraphContext<Client, Loaders, Extra>>,
      createContext: (identity): SubgraphContext<Client, Loaders, Extra> => ({ ...extra, identity, prisma, loaders: loaders(prisma) }),
    }));
    if (!module.worker) return service;
    const worker = module.worker({ config, prisma: service.db.prisma, logger, metrics: service.metrics, context: extra });
    let closing: Promise<void> | undefined;
    return {
      ...service,
      close: () =>
        (closing ??= (async () => {
          await worker.stop();
          await service.close();
        })()),
    };
  };

  return {
    name,
    env: envSchema,
    start,
    main: () =>
      runService(name, async () => {
        const config = loadConfig(envSchema);
        const logger = createLogger(name, common(config).LOG_LEVEL);
        return { service: await start(config, logger), logger };
      }),
  };
}
