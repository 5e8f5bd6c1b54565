import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { badInput, pageSize, type Identity } from '@shop/service-kit';
import type { Prisma, PrismaClient, Product } from './generated/prisma/client.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { Loaders } from './loaders.ts';

export interface ProductsContext {
  identity: Identity;
  loaders: Loaders;
  prisma: PrismaClient;
}

interface ProductsArgs {
  first?: number | null;
  after?: string | null;
  category?: string | null;
  search?: string | null;
}

export const resolvers: GraphQLResolverMap<ProductsContext> = {
  Query: {
    product: (_root, { upc }: { upc: string }, { loaders }) => loaders.productByUpc.load(upc),
    products: async (_root, args: ProductsArgs, { prisma, loaders }) => {
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
    topProducts: async (_root, args: { first?: number | null }, { prisma, loaders }) => {
      const take = pageSize(args.first, 5, 100);
      const products = await prisma.product.findMany({ orderBy: [{ popularity: 'desc' }, { upc: 'asc' }], take });
      for (const product of products) loaders.productByUpc.prime(product.upc, product);
      return products;
    },
  },
  Product: {
    __resolveReference: (reference: { upc: string }, { loaders }: ProductsContext): Promise<Product | null> =>
      loaders.productByUpc.load(reference.upc),
  },
};
