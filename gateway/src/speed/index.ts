import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { Fetcher } from '@apollo/utils.fetcher';
import type { Logger } from '@shop/observability';
import type { GatewayConfig } from '../config.ts';
import { createEncoder } from './compression.ts';
import { inboundDedup } from './inbound-dedup.ts';
import { OperationKinds } from './operation-kinds.ts';
import type { HttpMiddleware } from './pipeline.ts';
import { responseCache } from './response-cache.ts';
import { memoryStore, redisStore, type ResponseStore } from './response-store.ts';
import { dedupSubgraphFetches } from './subgraph-dedup.ts';

export { withMiddlewares } from './pipeline.ts';

export interface SpeedFeatures<Ctx extends BaseContext> {
  /** Apollo plugins the features need (none when every feature is off). */
  plugins: ApolloServerPlugin<Ctx>[];
  /** Steps in front of Apollo's execution, outermost first. */
  middlewares: HttpMiddleware[];
  subgraphFetcher(fetcher: Fetcher): Fetcher;
  /** The bytes of each answer for the node:http bridge: shared by deduplicated requests, compressed if configured. */
  encode?: ReturnType<typeof createEncoder>;
  close(): Promise<void>;
}

/** The optional speed features, as configured: each is its own module, assembled here. */
export function createSpeedFeatures<Ctx extends BaseContext>(
  config: GatewayConfig,
  deps: { logger: Logger; identify(authorization: string | undefined): Promise<string | null> },
): SpeedFeatures<Ctx> {
  const kinds = new OperationKinds();
  const middlewares: HttpMiddleware[] = [];
  let store: ResponseStore | undefined;
  // Outermost: a burst of identical requests makes one cache look-up and, on a miss, one execution.
  if (config.INBOUND_DEDUP) middlewares.push(inboundDedup(kinds));
  if (config.RESPONSE_CACHE !== 'off') {
    store =
      config.RESPONSE_CACHE === 'redis'
        ? redisStore(config.REDIS_URL!, (error) => deps.logger.warn({ err: error }, 'response cache Redis error'))
        : memoryStore(config.RESPONSE_CACHE_MAX_MB * 2 ** 20);
    middlewares.push(
      responseCache({ store, kinds, identify: deps.identify, logger: deps.logger, prefix: config.RESPONSE_CACHE_NAMESPACE }),
    );
  }
  return {
    plugins: middlewares.length > 0 ? [kinds.plugin<Ctx>()] : [],
    middlewares,
    ...(config.COMPRESSION || config.INBOUND_DEDUP
      ? { encode: createEncoder({ compress: config.COMPRESSION, minBytes: config.COMPRESSION_MIN_BYTES }) }
      : {}),
    subgraphFetcher: (fetcher) => (config.SUBGRAPH_DEDUP ? dedupSubgraphFetches(fetcher) : fetcher),
    close: async () => {
      await store?.close();
    },
  };
}
