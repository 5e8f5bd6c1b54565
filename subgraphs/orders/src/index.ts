import { defineSubgraph, env, type SubgraphContext } from '@shop/service-kit';
import { PrismaClient } from './generated/prisma/client.ts';
import { createLoaders, type Loaders } from './loaders.ts';
import { remotePriceCatalog, type PriceCatalog } from './price-catalog.ts';
import { resolvers } from './resolvers.ts';

/** What orders adds to every subgraph's context: where current prices come from. */
interface OrdersParts {
  prices: PriceCatalog;
}

/** What every resolver receives as context: codegen.ts names it for the generated resolver types. */
export type OrdersContext = SubgraphContext<PrismaClient, Loaders, OrdersParts>;

export const orders = defineSubgraph({
  name: 'orders',
  port: 4005,
  schema: new URL('../schema.graphql', import.meta.url),
  PrismaClient,
  loaders: createLoaders,
  resolvers,
  env: {
    /** The products subgraph, which owns prices; orders snapshot them when placed. */
    PRODUCTS_SUBGRAPH_URL: env.httpUrl().default('http://127.0.0.1:4002/graphql'),
  },
  context: (config): OrdersParts => ({ prices: remotePriceCatalog(config.PRODUCTS_SUBGRAPH_URL, config.INTERNAL_SIGNING_SECRET) }),
});
