import { forbidden, requireScope, unauthenticated } from '@shop/service-kit';
import type { Resolvers } from './generated/resolvers.ts';
import { restock } from './restock.ts';
import { shippingEstimate } from './shipping.ts';
import { releaseStock, reserveStock } from './stock-reservations.ts';

/** The only caller allowed to reserve and release stock: the orders subgraph, with its own key. */
const ORDERS_ISSUER = 'orders';

function requireOrdersService(identity: { issuer: string }): void {
  if (identity.issuer !== ORDERS_ISSUER) throw forbidden('Only the orders service may reserve or release stock.');
}

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
  Mutation: {
    restock: async (_root, args, { identity, prisma, logger }) => {
      if (identity.userId === null) throw unauthenticated('Sign in to restock.');
      requireScope(identity, 'inventory:write');
      return restock(prisma, identity.userId, args.input, logger);
    },
    reserveStock: (_root, args, { identity, prisma }) => {
      requireOrdersService(identity);
      return reserveStock(prisma, args.orderId, args.lines);
    },
    releaseStock: (_root, args, { identity, prisma }) => {
      requireOrdersService(identity);
      return releaseStock(prisma, args.orderId);
    },
  },
};
