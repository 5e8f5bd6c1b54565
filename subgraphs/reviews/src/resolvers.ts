import { DateTimeScalar, pageSize, parseIntId, requireScope, unauthenticated } from '@shop/service-kit';
import type { Resolvers } from './generated/resolvers.ts';
import { parseAddReviewInput } from './add-review.ts';

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  Review: {
    __resolveReference: (reference, { loaders }) => {
      const id = parseIntId(reference.id);
      return id === null ? null : loaders.reviewById.load(id);
    },
    id: (review) => String(review.id),
    author: (review) => ({ __typename: 'User', id: String(review.authorId) }),
    product: (review) => ({ __typename: 'Product', upc: review.productUpc }),
  },
  User: {
    // Every user may have reviews; the accounts subgraph decides whether the user exists.
    __resolveReference: (reference) => reference,
    reviews: async (user, args, { loaders }) => {
      const limit = pageSize(args.first, 5, 50);
      const id = parseIntId(user.id);
      return id === null ? [] : loaders.reviewsByAuthor(limit).load(id);
    },
  },
  Product: {
    __resolveReference: (reference) => reference,
    reviews: (product, args, { loaders }) => loaders.reviewsByProduct(pageSize(args.first, 5, 50)).load(product.upc),
    averageRating: async (product, _args, { loaders }) => (await loaders.averageRatingByProduct.load(product.upc))?.average ?? null,
  },
  Mutation: {
    addReview: async (_root, { input }, { identity, prisma }) => {
      if (identity.userId === null) throw unauthenticated('Sign in to add a review.');
      requireScope(identity, 'reviews:write');
      // The schema makes the types right; the rules (rating 1 to 5, body length...) are checked here.
      const review = parseAddReviewInput(input);
      return prisma.review.create({
        data: { authorId: identity.userId, productUpc: review.upc, rating: review.rating, body: review.body },
      });
    },
  },
};
