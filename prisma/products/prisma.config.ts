// Prisma CLI config for the products database (see ../src/prisma-config.ts).
import { subgraphPrismaConfig } from '../src/prisma-config.ts';

export default subgraphPrismaConfig('products');
