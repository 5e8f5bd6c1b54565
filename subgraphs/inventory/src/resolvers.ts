import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import type { Identity } from '@shop/service-kit';
import type { PrismaClient } from './generated/prisma/client.ts';
import type { Loaders } from './loaders.ts';
import { shippingEstimate } from './shipping.ts';

export interface InventoryContext {
  identity: Identity;
  loaders: Loaders;
  prisma: PrismaClient;
}

/** A product as the gateway sends it: its key and, when a field requires them, price and weight. */
interface ProductReference {
  upc: string;
  price?: number | null;
  weight?: number | null;
}

interface StockedProduct extends ProductReference {
  quantity: number;
}

export const resolvers: GraphQLResolverMap<InventoryContext> = {
  Product: {
    // A product with no inventory row has simply never been stocked: quantity 0, not an error.
    __resolveReference: async (reference: ProductReference, { loaders }: InventoryContext): Promise<StockedProduct> => {
      const item = await loaders.itemByUpc.load(reference.upc);
      return { ...reference, quantity: item?.quantity ?? 0 };
    },
    inStock: (product: StockedProduct) => product.quantity > 0,
    quantity: (product: StockedProduct) => product.quantity,
    shippingEstimate: (product: StockedProduct) => shippingEstimate(product.price, product.weight),
  },
};
