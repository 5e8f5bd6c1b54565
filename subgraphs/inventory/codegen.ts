import type { SubgraphCodegenConfig } from '@shop/subgraph-codegen';

export default {
  contextType: '../index.ts#InventoryContext',
  // Resolvers read a product as __resolveReference returns it: the reference plus its stock.
  mappers: { Product: '../resolvers.ts#StockedProduct' },
} satisfies SubgraphCodegenConfig;
