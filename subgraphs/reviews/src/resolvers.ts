import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { DateTimeScalar, pageSize, parseIntId, unauthenticated, type Identity } from '@shop/service-kit';
import type { PrismaClient, Review } from './generated/prisma/client.ts';
import { parseAddReviewInput } from './add-review.ts';
import type { Loaders } from './loaders.ts';

export interface ReviewsContext {
  identity: Identity;
  loaders: Loaders;
  prisma: PrismaClient;
}

export const resolvers: GraphQLResolverMap<ReviewsContext> = {
  DateTime: DateTimeScalar,
  Review: {
    __resolveReference: (reference: { id: string }, { loaders }: ReviewsContext) => {
      const id = parseIntId(reference.id);
      return id === null ? null : loaders.reviewById.load(id);
    },
    id: (review: Review) => String(review.id),
    author: (review: Review) => ({ __typename: 'User', id: String(review.authorId) }),
    product: (review: Review) => ({ __typename: 'Product', upc: review.productUpc }),
  },
  User: {
    // Every user may have reviews; the accounts subgraph decides whether the user exists.
    __resolveReference: (reference: { id: string }) => reference,
    reviews: async (user: { id: string }, args: { first?: number | null }, { loaders }) => {
      const limit = pageSize(args.first, 5, 50);
      const id = parseIntId(user.id);
      return id === null ? [] : loaders.reviewsByAuthor(limit).load(id);
    },
  },
  Product: {
    __resolveReference: (reference: { upc: string }) => reference,
    reviews: (product: { upc: string }, args: { first?: number | null }, { loaders }) =>
      loaders.reviewsByProduct(pageSize(args.first, 5, 50)).load(product.upc),
    averageRating: async (product: { upc: string }, _args, { loaders }) =>
      (await loaders.averageRatingByProduct.load(product.upc))?.average ?? null,
  },
  Mutation: {
    addReview: async (_root, { input }: { input: unknown }, { identity, prisma }) => {
      if (identity.userId === null) throw unauthenticated('Sign in to add a review.');
      const review = parseAddReviewInput(input);
      return prisma.review.create({
        data: { authorId: identity.userId, productUpc: review.upc, rating: review.rating, body: review.body },
      });
    },
  },
};
