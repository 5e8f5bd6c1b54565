import type { SubgraphCodegenConfig } from '@shop/subgraph-codegen';

export default {
  contextType: '../index.ts#AccountsContext',
  mappers: { User: './prisma/client.ts#User' },
} satisfies SubgraphCodegenConfig;
