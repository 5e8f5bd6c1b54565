import { z } from 'zod';
import { badInput } from '@shop/service-kit';
import type { Logger } from '@shop/observability';
import type { PrismaClient } from './generated/prisma/client.ts';

const restockInput = z.object({
  upc: z.string().trim().min(1, 'upc must not be empty').max(64, 'upc must be at most 64 characters'),
  quantity: z.number().int('quantity must be a whole number').min(1, 'quantity must be 1 to 100000').max(100_000, 'quantity must be 1 to 100000'),
  reason: z.string().trim().min(1, 'reason must not be empty').max(200, 'reason must be at most 200 characters'),
  warehouse: z
    .string()
    .trim()
    .regex(/^[A-Z0-9-]{1,16}$/, 'warehouse must be 1 to 16 capital letters, digits or "-"')
    .nullish(),
});

/**
 * Adds units to a product's stock and records who did it and why, in one transaction: the audit
 * row exists exactly when the change does. A product never stocked before gets its row here.
 */
export async function restock(prisma: PrismaClient, actorUserId: number, rawInput: unknown, logger: Logger): Promise<{ upc: string; quantity: number }> {
  const parsed = restockInput.safeParse(rawInput);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => ({ field: issue.path.join('.'), message: issue.message }));
    throw badInput(`Invalid restock: ${problems.map((p) => p.message).join('; ')}.`, 'BAD_USER_INPUT', { problems });
  }
  const { upc, quantity, reason } = parsed.data;
  const warehouse = parsed.data.warehouse ?? 'MAIN';
  const item = await prisma.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<Array<{ quantity: number }>>`
      INSERT INTO inventory_items (upc, quantity, warehouse, updated_at) VALUES (${upc}, ${quantity}, ${warehouse}, now())
      ON CONFLICT (upc) DO UPDATE SET quantity = inventory_items.quantity + EXCLUDED.quantity, updated_at = now()
      RETURNING quantity`;
    await tx.stockAdjustment.create({ data: { upc, delta: quantity, quantityAfter: row!.quantity, reason, actorUserId } });
    return { upc, quantity: row!.quantity };
  });
  logger.info({ audit: 'stock_adjusted', upc, delta: quantity, quantityAfter: item.quantity, actorUserId, reason }, 'stock restocked');
  return item;
}
