import { createHash } from 'node:crypto';
import { z } from 'zod';
import { GraphQLError } from 'graphql';
import { badInput } from '@shop/service-kit';
import type { Order, OrderLine, Prisma, PrismaClient, StockCommand } from './generated/prisma/client.ts';
import { insertOrder } from './order-insert.ts';
import type { PriceCatalog } from './price-catalog.ts';
import type { StockShortage } from './stock/inventory-stock.ts';
import type { StockRelay } from './stock/stock-relay.ts';

const placeOrderArgs = z.object({
  idempotencyKey: z
    .string()
    .min(8, 'idempotencyKey must be 8 to 100 characters')
    .max(100, 'idempotencyKey must be 8 to 100 characters')
    .regex(/^[A-Za-z0-9._:-]+$/, 'idempotencyKey may contain only letters, digits and . _ : -'),
  input: z.object({
    lines: z
      .array(
        z.object({
          upc: z.string().trim().min(1, 'upc must not be empty').max(64, 'upc must be at most 64 characters'),
          quantity: z.number().int('quantity must be a whole number').min(1, 'quantity must be 1 to 1000').max(1000, 'quantity must be 1 to 1000'),
        }),
      )
      .min(1, 'an order needs at least one line')
      .max(50, 'an order has at most 50 lines')
      .refine((lines) => new Set(lines.map((l) => l.upc)).size === lines.length, 'each product may appear in one line only'),
  }),
});
type PlaceOrderArgs = z.infer<typeof placeOrderArgs>;

export type OrderWithLines = Order & { lines: OrderLine[] };

export function parsePlaceOrderArgs(args: unknown): PlaceOrderArgs {
  const result = placeOrderArgs.safeParse(args);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({ field: issue.path.join('.'), message: issue.message }));
  throw badInput(`Invalid order: ${problems.map((p) => p.message).join('; ')}.`, 'BAD_USER_INPUT', { problems });
}

/** What makes two placeOrder calls "the same order": the lines, in any order. */
export function requestHash(lines: PlaceOrderArgs['input']['lines']): string {
  const canonical = [...lines].sort((a, b) => (a.upc < b.upc ? -1 : a.upc > b.upc ? 1 : 0)).map((l) => [l.upc, l.quantity]);
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

export interface OrderServices {
  prices: PriceCatalog;
  relay: StockRelay;
}

/**
 * Places an order exactly once per (user, idempotencyKey) and reserves its stock. The unique index
 * on that pair is the arbiter: of concurrent retries, one insert wins and the others read the
 * winner's order. The order and its RESERVE command (the outbox) are written in one transaction,
 * then relayed to inventory at once; if that fails, the relay worker's sweep delivers it later,
 * so an order written is never left without its decision.
 */
export async function placeOrder(prisma: PrismaClient, services: OrderServices, userId: number, rawArgs: unknown): Promise<OrderWithLines> {
  const { idempotencyKey, input } = parsePlaceOrderArgs(rawArgs);
  const hash = requestHash(input.lines);
  const byKey = { userId_idempotencyKey: { userId, idempotencyKey } };
  const withCommands = { lines: true, stockCommands: { where: { doneAt: null } } } as const;

  const existing = await prisma.order.findUnique({ where: byKey, include: withCommands });
  if (existing) return settle(prisma, services.relay, sameRequestOrThrow(existing, hash));

  const priceByUpc = await services.prices(input.lines.map((line) => line.upc));
  const unknown = input.lines.filter((line) => !priceByUpc.has(line.upc)).map((line) => line.upc);
  if (unknown.length > 0) {
    throw badInput(`No product with upc ${unknown.join(', ')}.`, 'PRODUCT_NOT_FOUND', { upcs: unknown });
  }
  const lines = input.lines.map((line) => ({ productUpc: line.upc, quantity: line.quantity, unitPrice: priceByUpc.get(line.upc)! }));
  const total = lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0);

  const inserted = await insertOrder(prisma, { userId, idempotencyKey, requestHash: hash, total, lines });
  // Null: a concurrent call with this key wrote its order first; that one is the answer.
  const order = inserted ?? sameRequestOrThrow(await prisma.order.findUniqueOrThrow({ where: byKey, include: withCommands }), hash);
  return settle(prisma, services.relay, order);
}

type PlacedOrder = OrderWithLines & { stockCommands: StockCommand[] };

/**
 * Answers with the order's decision: a PENDING order's RESERVE is relayed now (inventory answers a
 * repeat with its first decision); a REJECTED order is the OUT_OF_STOCK error. While inventory
 * cannot answer, the order is returned PENDING: it is written, and the sweep will decide it.
 */
async function settle(prisma: PrismaClient, relay: StockRelay, order: PlacedOrder): Promise<OrderWithLines> {
  let current: OrderWithLines = order;
  const reserve = order.stockCommands.find((command) => command.kind === 'RESERVE');
  if (order.status === 'PENDING' && reserve) {
    const lines = order.lines.map((line) => ({ upc: line.productUpc, quantity: line.quantity }));
    const result = await relay.relay(prisma, reserve, 'inline', lines);
    if (result.ok) {
      // RELEASED: the order was cancelled meanwhile (its release reached inventory first).
      const decided = result.outcome.status === 'RESERVED' ? 'CONFIRMED' : result.outcome.status === 'REJECTED' ? 'REJECTED' : 'CANCELLED';
      current = { ...order, status: decided, shortages: result.outcome.status === 'REJECTED' ? (result.outcome.shortages as unknown as Prisma.JsonValue) : order.shortages };
    }
  }
  if (current.status === 'REJECTED') throw outOfStock(current);
  return current;
}

function outOfStock(order: OrderWithLines): GraphQLError {
  const shortages = (Array.isArray(order.shortages) ? order.shortages : []) as unknown as StockShortage[];
  const detail = shortages.map((s) => `${s.upc} (${s.requested} asked, ${s.available} available)`).join(', ');
  return new GraphQLError(
    `Not enough stock for ${detail || 'this order'}. The order is REJECTED and nothing was reserved; order fewer units or later, with a new idempotencyKey.`,
    { extensions: { code: 'OUT_OF_STOCK', orderId: String(order.id), shortages } },
  );
}

function sameRequestOrThrow<T extends OrderWithLines>(order: T, hash: string): T {
  if (order.requestHash === hash) return order;
  throw new GraphQLError(
    'This idempotencyKey was already used for a different order. Use a new key for a new order.',
    { extensions: { code: 'IDEMPOTENCY_KEY_REUSED', orderId: String(order.id) } },
  );
}
