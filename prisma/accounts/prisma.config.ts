// Prisma CLI config for the accounts database (see ../src/prisma-config.ts).
import { subgraphPrismaConfig } from '../src/prisma-config.ts';

export default subgraphPrismaConfig('accounts');
