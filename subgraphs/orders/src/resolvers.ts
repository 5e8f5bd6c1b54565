import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { DateTimeScalar, forbidden, pageSize, parseIntId, unauthenticated, type Identity } from '@shop/service-kit';
import type { Order, OrderLine, PrismaClient } from './generated/prisma/client.ts';
import type { Loaders } from './loaders.ts';
import { placeOrder, type OrderWithLines } from './place-order.ts';
import type { PriceCatalog } from './price-catalog.ts';

export interface OrdersContext {
  identity: Identity;
  loaders: Loaders;
  prisma: PrismaClient;
  prices: PriceCatalog;
}

export const resolvers: GraphQLResolverMap<OrdersContext> = {
  DateTime: DateTimeScalar,
  Order: {
    // Another user's order is "not found", not "forbidden": its existence is private too.
    __resolveReference: async (reference: { id: string }, { loaders, identity }: OrdersContext) => {
      const id = parseIntId(reference.id);
      const order = id === null ? null : await loaders.orderById.load(id);
      return order && order.userId === identity.userId ? order : null;
    },
    id: (order: Order) => String(order.id),
    user: (order: Order) => ({ __typename: 'User', id: String(order.userId) }),
    // An order just placed carries its lines; any other goes through the batch loader.
    lines: (order: Order | OrderWithLines, _args, { loaders }) =>
      'lines' in order ? order.lines : loaders.linesByOrder.load(order.id),
  },
  OrderLine: {
    product: (line: OrderLine) => ({ __typename: 'Product', upc: line.productUpc }),
  },
  User: {
    __resolveReference: (reference: { id: string }) => reference,
    orders: (user: { id: string }, args: { first?: number | null }, { loaders, identity }) => {
      const limit = pageSize(args.first, 10, 50);
      const id = parseIntId(user.id);
      if (id === null || id !== identity.userId) throw forbidden('Only the user themself may see their orders.');
      return loaders.ordersByUser(limit).load(id);
    },
  },
  Mutation: {
    placeOrder: (_root, args: unknown, { identity, prisma, prices }) => {
      if (identity.userId === null) throw unauthenticated('Sign in to place an order.');
      return placeOrder(prisma, prices, identity.userId, args);
    },
  },
};
