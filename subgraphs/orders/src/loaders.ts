import { createGroupedLoader, createKeyedLoader, loaderPerLimit } from '@shop/service-kit';
import { Prisma, type Order, type OrderLine, type PrismaClient } from './generated/prisma/client.ts';

export function createLoaders(prisma: PrismaClient) {
  return {
    orderById: createKeyedLoader<number, Order>(
      (ids) => prisma.order.findMany({ where: { id: { in: [...ids] } } }),
      (order) => order.id,
      'orders.orderById',
    ),
    /** The newest `limit` orders of each user, in one statement (a window function ranks each user's orders). */
    ordersByUser: loaderPerLimit((limit) =>
      createGroupedLoader<number, Order>(
        (userIds) => prisma.$queryRaw<Order[]>`
          SELECT id, user_id AS "userId", status::text AS status, total, idempotency_key AS "idempotencyKey",
                 request_hash AS "requestHash", created_at AS "createdAt"
          FROM (
            SELECT o.*, row_number() OVER (PARTITION BY user_id ORDER BY id DESC) AS rank
            FROM orders o WHERE user_id IN (${Prisma.join(userIds)})
          ) ranked
          WHERE rank <= ${limit}
          ORDER BY id DESC`,
        (order) => order.userId,
        'orders.ordersByUser',
      ),
    ),
    linesByOrder: createGroupedLoader<number, OrderLine>(
      (orderIds) => prisma.orderLine.findMany({ where: { orderId: { in: [...orderIds] } }, orderBy: { id: 'asc' } }),
      (line) => line.orderId,
      'orders.linesByOrder',
    ),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
