import type { SubgraphCodegenConfig } from '@shop/subgraph-codegen';

export default {
  contextType: '../index.ts#ProductsContext',
  mappers: { Product: './prisma/client.ts#Product' },
} satisfies SubgraphCodegenConfig;
