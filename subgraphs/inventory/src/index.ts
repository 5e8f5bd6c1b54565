import { createLogger, type Logger } from '@shop/observability';
import { loadTypeDefs, startDatabaseSubgraph, subgraphEnv, type SubgraphEnv } from '@shop/service-kit';
import { PrismaClient } from './generated/prisma/client.ts';
import { createLoaders } from './loaders.ts';
import { resolvers, type InventoryContext } from './resolvers.ts';

export const inventoryEnv = subgraphEnv(4003);
const typeDefs = loadTypeDefs(new URL('../schema.graphql', import.meta.url));

export function startInventory(config: SubgraphEnv, logger: Logger = createLogger('inventory', config.LOG_LEVEL)) {
  return startDatabaseSubgraph(config, logger, PrismaClient, (prisma) => ({
    name: 'inventory',
    typeDefs,
    resolvers,
    createContext: (identity): InventoryContext => ({ identity, prisma, loaders: createLoaders(prisma) }),
  }));
}
