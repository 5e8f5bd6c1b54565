import { createKeyedLoader } from '@shop/service-kit';
import type { InventoryItem, PrismaClient } from './generated/prisma/client.ts';

export function createLoaders(prisma: PrismaClient) {
  return {
    itemByUpc: createKeyedLoader<string, InventoryItem>(
      (upcs) => prisma.inventoryItem.findMany({ where: { upc: { in: [...upcs] } } }),
      (item) => item.upc,
      'inventory.itemByUpc',
    ),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
