import type { Resolvers } from './generated/resolvers.ts';
import { shippingEstimate } from './shipping.ts';

/**
 * A product as the gateway sends it: its key and, only when a field requires them, price and
 * weight (the generated reference type cannot say that they may be absent).
 */
interface ProductReference {
  upc: string;
  price?: number | null;
  weight?: number | null;
}

export interface StockedProduct extends ProductReference {
  quantity: number;
}

export const resolvers: Resolvers = {
  Product: {
    // A product with no inventory row has simply never been stocked: quantity 0, not an error.
    __resolveReference: async (reference: ProductReference, { loaders }): Promise<StockedProduct> => {
      const item = await loaders.itemByUpc.load(reference.upc);
      return { ...reference, quantity: item?.quantity ?? 0 };
    },
    inStock: (product) => product.quantity > 0,
    quantity: (product) => product.quantity,
    shippingEstimate: (product) => shippingEstimate(product.price, product.weight),
  },
};
