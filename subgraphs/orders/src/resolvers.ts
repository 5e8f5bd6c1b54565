import { DateTimeScalar, forbidden, pageSize, parseIntId, requireScope, unauthenticated } from '@shop/service-kit';
import type { Order } from './generated/prisma/client.ts';
import type { Resolvers } from './generated/resolvers.ts';
import { cancelOrder } from './cancel-order.ts';
import { placeOrder, type OrderWithLines } from './place-order.ts';

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  Order: {
    // Another user's order is "not found", not "forbidden": its existence is private too.
    __resolveReference: async (reference, { loaders, identity }) => {
      const id = parseIntId(reference.id);
      const order = id === null ? null : await loaders.orderById.load(id);
      return order && order.userId === identity.userId ? order : null;
    },
    id: (order) => String(order.id),
    user: (order) => ({ __typename: 'User', id: String(order.userId) }),
    // An order just placed carries its lines; any other goes through the batch loader.
    lines: (order: Order | OrderWithLines, _args, { loaders }) => ('lines' in order ? order.lines : loaders.linesByOrder.load(order.id)),
  },
  OrderLine: {
    product: (line) => ({ __typename: 'Product', upc: line.productUpc }),
  },
  User: {
    __resolveReference: (reference) => reference,
    orders: (user, args, { loaders, identity }) => {
      const limit = pageSize(args.first, 10, 50);
      const id = parseIntId(user.id);
      if (id === null || id !== identity.userId) throw forbidden('Only the user themself may see their orders.');
      return loaders.ordersByUser(limit).load(id);
    },
  },
  Mutation: {
    placeOrder: (_root, args, { identity, prisma, prices, relay }) => {
      if (identity.userId === null) throw unauthenticated('Sign in to place an order.');
      requireScope(identity, 'orders:write');
      return placeOrder(prisma, { prices, relay }, identity.userId, args);
    },
    cancelOrder: (_root, args, { identity, prisma, relay }) => {
      if (identity.userId === null) throw unauthenticated('Sign in to cancel an order.');
      requireScope(identity, 'orders:write');
      return cancelOrder(prisma, relay, identity.userId, args.id);
    },
  },
};
