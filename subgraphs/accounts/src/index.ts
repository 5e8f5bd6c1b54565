import { createLogger, type Logger } from '@shop/observability';
import { loadTypeDefs, startDatabaseSubgraph, subgraphEnv, type SubgraphEnv } from '@shop/service-kit';
import { PrismaClient } from './generated/prisma/client.ts';
import { createLoaders } from './loaders.ts';
import { resolvers, type AccountsContext } from './resolvers.ts';

export const accountsEnv = subgraphEnv(4001);
const typeDefs = loadTypeDefs(new URL('../schema.graphql', import.meta.url));

export function startAccounts(config: SubgraphEnv, logger: Logger = createLogger('accounts', config.LOG_LEVEL)) {
  return startDatabaseSubgraph(config, logger, PrismaClient, (prisma) => ({
    name: 'accounts',
    typeDefs,
    resolvers,
    createContext: (identity): AccountsContext => ({ identity, prisma, loaders: createLoaders(prisma) }),
  }));
}
