import { createKeyedLoader } from '@shop/service-kit';
import type { PrismaClient, Product } from './generated/prisma/client.ts';

export function createLoaders(prisma: PrismaClient) {
  return {
    productByUpc: createKeyedLoader<string, Product>(
      (upcs) => prisma.product.findMany({ where: { upc: { in: [...upcs] } } }),
      (product) => product.upc,
      'products.productByUpc',
    ),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
