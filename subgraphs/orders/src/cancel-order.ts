import { GraphQLError } from 'graphql';
import { parseIntId } from '@shop/service-kit';
import type { PrismaClient } from './generated/prisma/client.ts';
import type { OrderWithLines } from './place-order.ts';
import type { StockRelay } from './stock/stock-relay.ts';

const CANCELLABLE = ['PENDING', 'CONFIRMED'] as const;

/**
 * Cancels the caller's order: the status change and the RELEASE command are written in one
 * transaction, then relayed at once (or by the sweep). Inventory releases an order's units once,
 * so a repeated cancel, or a release that overtakes the order's reservation, never returns units
 * twice.
 */
export async function cancelOrder(prisma: PrismaClient, relay: StockRelay, userId: number, rawId: unknown): Promise<OrderWithLines> {
  const id = parseIntId(rawId);
  const order = id === null ? null : await prisma.order.findUnique({ where: { id }, include: { lines: true } });
  // Another user's order is "not found", not "forbidden": its existence is private too.
  if (!order || order.userId !== userId) {
    throw new GraphQLError('No such order of yours.', { extensions: { code: 'ORDER_NOT_FOUND' } });
  }
  if (order.status === 'CANCELLED') return order;
  if (!(CANCELLABLE as readonly string[]).includes(order.status)) throw notCancellable(order);

  const [changed, command] = await prisma.$transaction([
    prisma.order.updateMany({ where: { id: order.id, status: { in: [...CANCELLABLE] } }, data: { status: 'CANCELLED' } }),
    prisma.stockCommand.upsert({ where: { orderId_kind: { orderId: order.id, kind: 'RELEASE' } }, create: { orderId: order.id, kind: 'RELEASE' }, update: {} }),
  ]);
  if (changed.count === 0) {
    // Decided meanwhile (its reservation was rejected, or another cancel won): answer what it is now.
    const now = await prisma.order.findUniqueOrThrow({ where: { id: order.id }, include: { lines: true } });
    if (now.status === 'CANCELLED') return now;
    await prisma.stockCommand.deleteMany({ where: { id: command.id, doneAt: null } });
    throw notCancellable(now);
  }
  if (!command.doneAt) await relay.relay(prisma, command, 'inline');
  return { ...order, status: 'CANCELLED' };
}

function notCancellable(order: { id: number; status: string }): GraphQLError {
  return new GraphQLError(`Order ${order.id} is ${order.status} and can no longer be cancelled; only PENDING or CONFIRMED orders can.`, {
    extensions: { code: 'ORDER_NOT_CANCELLABLE', orderId: String(order.id), status: order.status },
  });
}
