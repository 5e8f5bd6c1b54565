import { createHash } from 'node:crypto';
import { z } from 'zod';
import { GraphQLError } from 'graphql';
import { badInput } from '@shop/service-kit';
import { Prisma, type Order, type OrderLine, type PrismaClient } from './generated/prisma/client.ts';
import type { PriceCatalog } from './price-catalog.ts';

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

/**
 * Places an order exactly once per (user, idempotencyKey). The unique index on that pair is
 * the arbiter: of concurrent retries, one insert wins and the others read the winner's order.
 */
export async function placeOrder(
  prisma: PrismaClient,
  prices: PriceCatalog,
  userId: number,
  rawArgs: unknown,
): Promise<OrderWithLines> {
  const { idempotencyKey, input } = parsePlaceOrderArgs(rawArgs);
  const hash = requestHash(input.lines);
  const byKey = { userId_idempotencyKey: { userId, idempotencyKey } };

  const existing = await prisma.order.findUnique({ where: byKey, include: { lines: true } });
  if (existing) return sameRequestOrThrow(existing, hash);

  const priceByUpc = await prices(input.lines.map((line) => line.upc));
  const unknown = input.lines.filter((line) => !priceByUpc.has(line.upc)).map((line) => line.upc);
  if (unknown.length > 0) {
    throw badInput(`No product with upc ${unknown.join(', ')}.`, 'PRODUCT_NOT_FOUND', { upcs: unknown });
  }
  const lines = input.lines.map((line) => ({ productUpc: line.upc, quantity: line.quantity, unitPrice: priceByUpc.get(line.upc)! }));
  const total = lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0);

  try {
    return await prisma.order.create({
      data: { userId, idempotencyKey, requestHash: hash, total, lines: { create: lines } },
      include: { lines: true },
    });
  } catch (error) {
    if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== 'P2002') throw error;
    const winner = await prisma.order.findUnique({ where: byKey, include: { lines: true } });
    if (!winner) throw error;
    return sameRequestOrThrow(winner, hash);
  }
}

function sameRequestOrThrow(order: OrderWithLines, hash: string): OrderWithLines {
  if (order.requestHash === hash) return order;
  throw new GraphQLError(
    'This idempotencyKey was already used for a different order. Use a new key for a new order.',
    { extensions: { code: 'IDEMPOTENCY_KEY_REUSED', orderId: String(order.id) } },
  );
}
