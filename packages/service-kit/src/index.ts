export { ConfigError, env, loadConfig } from './env.ts';
export { badInput, forbidden, pageSize, requireScope, unauthenticated } from './errors.ts';
export { type Identity } from './identity.ts';
export {
  ANONYMOUS_CLAIMS,
  createInternalSigner,
  createInternalVerifier,
  GATEWAY_ISSUER,
  generateInternalKeyPair,
  generateStackTrust,
  stackTrustFrom,
  INTERNAL_TOKEN_HEADER,
  keyIdSchema,
  memoryNonceStore,
  parsePrivateKey,
  publicJwkOf,
  redisNonceStore,
  signingKeySchema,
  trustedKeysSchema,
  type BoundRequest,
  type InternalClaims,
  type InternalSigner,
  type InternalVerifier,
  type NonceStore,
  type StackTrust,
  type TrustedKeys,
} from './internal-auth.ts';
export {
  openRedis,
  reconnectDelay,
  REDIS_DEFAULTS,
  RedisUnavailableError,
  type RedisConnection,
  type RedisConnectionOptions,
  type RedisHealth,
} from './redis-connection.ts';
export { DateTimeScalar } from './scalars.ts';
export { createGroupedLoader, createKeyedLoader, loaderPerLimit } from './loaders/batch.ts';
export { createCountingPool, type CountingPoolOptions, type SqlStats } from './database/counting-pool.ts';
export { DATABASE_DEFAULTS, openDatabase, type Database, type DatabaseOptions } from './database/prisma.ts';
export {
  classifyDatabaseError,
  databaseFaultMessage,
  formatDatabaseErrors,
  type DatabaseFault,
  type DatabaseFaultCode,
  type DatabaseFaultReason,
} from './database/database-errors.ts';
export { createDatabaseHealth, type DatabaseHealth, type DatabaseHealthOptions } from './database/health.ts';
export { createGraphQLHandler, type PreparedRequest, type RequestHandler } from './http/graphql-handler.ts';
export { HttpError, sendHttpError, sendJson } from './http/errors.ts';
export { parseJsonBody, readBody, readJsonBody } from './http/read-body.ts';
export { startServiceServer, type DrainResult, type ServiceServer } from './http/service-server.ts';
export {
  defineSubgraph,
  loadTypeDefs,
  startDatabaseSubgraph,
  startSubgraphServer,
  type BackgroundWorker,
  type ContextResolver,
  type DatabaseSubgraph,
  subgraphEnv,
  type ResolverMap,
  type RunningSubgraph,
  type Subgraph,
  type SubgraphContext,
  type SubgraphDefinition,
  type SubgraphEnv,
  type SubgraphEnvWith,
  type SubgraphModule,
  type SubgraphServerOptions,
} from './subgraph.ts';
export { runService } from './main.ts';
export { parseIntId } from './ids.ts';
