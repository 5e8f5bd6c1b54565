import { createLogger, type Logger } from '@shop/observability';
import { loadTypeDefs, startDatabaseSubgraph, subgraphEnv, type SubgraphEnv } from '@shop/service-kit';
import { PrismaClient } from './generated/prisma/client.ts';
import { createLoaders } from './loaders.ts';
import { resolvers, type ProductsContext } from './resolvers.ts';

export const productsEnv = subgraphEnv(4002);
const typeDefs = loadTypeDefs(new URL('../schema.graphql', import.meta.url));

export function startProducts(config: SubgraphEnv, logger: Logger = createLogger('products', config.LOG_LEVEL)) {
  return startDatabaseSubgraph(config, logger, PrismaClient, (prisma) => ({
    name: 'products',
    typeDefs,
    resolvers,
    createContext: (identity): ProductsContext => ({ identity, prisma, loaders: createLoaders(prisma) }),
  }));
}
