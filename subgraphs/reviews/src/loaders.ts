import { createGroupedLoader, createKeyedLoader, loaderPerLimit } from '@shop/service-kit';
import { Prisma, type PrismaClient, type Review } from './generated/prisma/client.ts';

/** Columns of `reviews` under the model's field names, for raw queries. */
const REVIEW_COLUMNS = Prisma.sql`id, body, rating, author_id AS "authorId", product_upc AS "productUpc", created_at AS "createdAt"`;

/**
 * The newest `limit` reviews of each of many parents in one statement: a window function
 * ranks each parent's reviews, which Prisma's query API cannot express (its `take` limits
 * the whole result, not each parent).
 */
function newestPerParent(prisma: PrismaClient, column: 'author_id' | 'product_upc', keys: readonly (number | string)[], limit: number) {
  return prisma.$queryRaw<Review[]>`
    SELECT ${REVIEW_COLUMNS} FROM (
      SELECT r.*, row_number() OVER (PARTITION BY ${Prisma.raw(column)} ORDER BY id DESC) AS rank
      FROM reviews r WHERE ${Prisma.raw(column)} IN (${Prisma.join(keys)})
    ) ranked
    WHERE rank <= ${limit}
    ORDER BY id DESC`;
}

export function createLoaders(prisma: PrismaClient) {
  return {
    reviewById: createKeyedLoader<number, Review>(
      (ids) => prisma.review.findMany({ where: { id: { in: [...ids] } } }),
      (review) => review.id,
      'reviews.reviewById',
    ),
    reviewsByAuthor: loaderPerLimit((limit) =>
      createGroupedLoader<number, Review>(
        (authorIds) => newestPerParent(prisma, 'author_id', authorIds, limit),
        (review) => review.authorId,
        'reviews.reviewsByAuthor',
      ),
    ),
    reviewsByProduct: loaderPerLimit((limit) =>
      createGroupedLoader<string, Review>(
        (upcs) => newestPerParent(prisma, 'product_upc', upcs, limit),
        (review) => review.productUpc,
        'reviews.reviewsByProduct',
      ),
    ),
    averageRatingByProduct: createKeyedLoader<string, { upc: string; average: number | null }>(
      async (upcs) => {
        const groups = await prisma.review.groupBy({
          by: ['productUpc'],
          where: { productUpc: { in: [...upcs] } },
          _avg: { rating: true },
        });
        return groups.map((group) => ({ upc: group.productUpc, average: group._avg.rating }));
      },
      (row) => row.upc,
      'reviews.averageRatingByProduct',
    ),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
