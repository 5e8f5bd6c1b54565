import { badInput, pageSize } from '@shop/service-kit';
import type { Prisma } from './generated/prisma/client.ts';
import type { Resolvers } from './generated/resolvers.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';

export const resolvers: Resolvers = {
  Query: {
    product: (_root, { upc }, { loaders }) => loaders.productByUpc.load(upc),
    products: async (_root, args, { prisma, loaders }) => {
      const take = pageSize(args.first, 20, 100);
      const where: Prisma.ProductWhereInput = {};
      if (args.category != null) where.category = args.category;
      if (args.search != null) {
        const search = args.search.trim();
        if (search.length === 0 || search.length > 100) throw badInput('"search" must be 1 to 100 characters.');
        where.name = { contains: search, mode: 'insensitive' };
      }
      if (args.after != null) where.upc = { gt: decodeCursor(args.after) };
      // One row more than asked tells whether there is a next page without a COUNT.
      const rows = await prisma.product.findMany({ where, orderBy: { upc: 'asc' }, take: take + 1 });
      const page = rows.slice(0, take);
      for (const product of page) loaders.productByUpc.prime(product.upc, product);
      const last = page.at(-1);
      return {
        edges: page.map((node) => ({ cursor: encodeCursor(node.upc), node })),
        pageInfo: { hasNextPage: rows.length > take, endCursor: last ? encodeCursor(last.upc) : null },
      };
    },
    topProducts: async (_root, args, { prisma, loaders }) => {
      const take = pageSize(args.first, 5, 100);
      const products = await prisma.product.findMany({ orderBy: [{ popularity: 'desc' }, { upc: 'asc' }], take });
      for (const product of products) loaders.productByUpc.prime(product.upc, product);
      return products;
    },
  },
  Product: {
    __resolveReference: (reference, { loaders }) => loaders.productByUpc.load(reference.upc),
  },
};
