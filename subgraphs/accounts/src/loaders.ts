import { createKeyedLoader } from '@shop/service-kit';
import type { PrismaClient, User } from './generated/prisma/client.ts';

export function createLoaders(prisma: PrismaClient) {
  return {
    userById: createKeyedLoader<number, User>(
      (ids) => prisma.user.findMany({ where: { id: { in: [...ids] } } }),
      (user) => user.id,
      'accounts.userById',
    ),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
