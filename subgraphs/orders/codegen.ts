import type { SubgraphCodegenConfig } from '@shop/subgraph-codegen';

export default {
  contextType: '../index.ts#OrdersContext',
  mappers: {
    Order: './prisma/client.ts#Order',
    OrderLine: './prisma/client.ts#OrderLine',
    // Users belong to the accounts subgraph: here a user is only its key.
    User: "FederationReferenceTypes['User']",
  },
} satisfies SubgraphCodegenConfig;
