// Prisma CLI config for the inventory database (see ../src/prisma-config.ts).
import { subgraphPrismaConfig } from '../src/prisma-config.ts';

export default subgraphPrismaConfig('inventory');
