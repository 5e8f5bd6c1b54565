import type { SubgraphCodegenConfig } from '@shop/subgraph-codegen';

export default {
  contextType: '../index.ts#ReviewsContext',
  mappers: {
    Review: './prisma/client.ts#Review',
    // Users and products belong to other subgraphs: here they are only their keys.
    User: "FederationReferenceTypes['User']",
    Product: "FederationReferenceTypes['Product']",
  },
} satisfies SubgraphCodegenConfig;
