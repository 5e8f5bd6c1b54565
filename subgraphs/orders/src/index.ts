import { z } from 'zod';
import { createLogger, type Logger } from '@shop/observability';
import { env, loadTypeDefs, startDatabaseSubgraph, subgraphEnv } from '@shop/service-kit';
import { PrismaClient } from './generated/prisma/client.ts';
import { createLoaders } from './loaders.ts';
import { remotePriceCatalog } from './price-catalog.ts';
import { resolvers, type OrdersContext } from './resolvers.ts';

export const ordersEnv = subgraphEnv(4005).extend({
  /** The products subgraph, which owns prices; orders snapshot them when placed. */
  PRODUCTS_SUBGRAPH_URL: env.httpUrl().default('http://127.0.0.1:4002/graphql'),
});
export type OrdersEnv = z.infer<typeof ordersEnv>;
const typeDefs = loadTypeDefs(new URL('../schema.graphql', import.meta.url));

export function startOrders(config: OrdersEnv, logger: Logger = createLogger('orders', config.LOG_LEVEL)) {
  const prices = remotePriceCatalog(config.PRODUCTS_SUBGRAPH_URL, config.INTERNAL_SIGNING_SECRET);
  return startDatabaseSubgraph(config, logger, PrismaClient, (prisma) => ({
    name: 'orders',
    typeDefs,
    resolvers,
    createContext: (identity): OrdersContext => ({ identity, prisma, prices, loaders: createLoaders(prisma) }),
  }));
}
