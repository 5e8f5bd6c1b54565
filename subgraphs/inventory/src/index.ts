import type { Logger } from '@shop/observability';
import { defineSubgraph, type SubgraphContext } from '@shop/service-kit';
import { PrismaClient } from './generated/prisma/client.ts';
import { createLoaders, type Loaders } from './loaders.ts';
import { resolvers } from './resolvers.ts';

/** What inventory adds to every subgraph's context: where staff changes to stock are logged. */
interface InventoryParts {
  logger: Logger;
}

/** What every resolver receives as context: codegen.ts names it for the generated resolver types. */
export type InventoryContext = SubgraphContext<PrismaClient, Loaders, InventoryParts>;

export const inventory = defineSubgraph({
  name: 'inventory',
  port: 4003,
  schema: new URL('../schema.graphql', import.meta.url),
  PrismaClient,
  loaders: createLoaders,
  resolvers,
  context: (_config, logger): InventoryParts => ({ logger }),
});
