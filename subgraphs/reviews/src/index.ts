import { createLogger, type Logger } from '@shop/observability';
import { loadTypeDefs, startDatabaseSubgraph, subgraphEnv, type SubgraphEnv } from '@shop/service-kit';
import { PrismaClient } from './generated/prisma/client.ts';
import { createLoaders } from './loaders.ts';
import { resolvers, type ReviewsContext } from './resolvers.ts';

export const reviewsEnv = subgraphEnv(4004);
const typeDefs = loadTypeDefs(new URL('../schema.graphql', import.meta.url));

export function startReviews(config: SubgraphEnv, logger: Logger = createLogger('reviews', config.LOG_LEVEL)) {
  return startDatabaseSubgraph(config, logger, PrismaClient, (prisma) => ({
    name: 'reviews',
    typeDefs,
    resolvers,
    createContext: (identity): ReviewsContext => ({ identity, prisma, loaders: createLoaders(prisma) }),
  }));
}
