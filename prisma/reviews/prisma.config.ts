// Prisma CLI config for the reviews database (see ../src/prisma-config.ts).
import { subgraphPrismaConfig } from '../src/prisma-config.ts';

export default subgraphPrismaConfig('reviews');
