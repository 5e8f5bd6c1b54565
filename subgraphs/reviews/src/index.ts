import { defineSubgraph, type SubgraphContext } from '@shop/service-kit';
import { PrismaClient } from './generated/prisma/client.ts';
import { createLoaders, type Loaders } from './loaders.ts';
import { resolvers } from './resolvers.ts';

/** What every resolver receives as context: codegen.ts names it for the generated resolver types. */
export type ReviewsContext = SubgraphContext<PrismaClient, Loaders>;

export const reviews = defineSubgraph({
  name: 'reviews',
  port: 4004,
  schema: new URL('../schema.graphql', import.meta.url),
  PrismaClient,
  loaders: createLoaders,
  resolvers,
});
