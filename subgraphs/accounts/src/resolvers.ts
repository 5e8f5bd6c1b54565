import { DateTimeScalar, badInput, pageSize, parseIntId } from '@shop/service-kit';
import type { Resolvers } from './generated/resolvers.ts';

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  Query: {
    me: (_root, _args, { identity, loaders }) =>
      identity.userId === null ? null : loaders.userById.load(identity.userId),
    user: (_root, { id }, { loaders }) => {
      const userId = parseIntId(id);
      return userId === null ? null : loaders.userById.load(userId);
    },
    users: async (_root, args, { prisma, loaders }) => {
      const take = pageSize(args.first, 20, 100);
      let after = 0;
      if (args.after != null) {
        const parsed = parseIntId(args.after);
        if (parsed === null) throw badInput(`"after" must be a user id, got ${JSON.stringify(args.after)}.`);
        after = parsed;
      }
      const users = await prisma.user.findMany({ where: { id: { gt: after } }, orderBy: { id: 'asc' }, take });
      // Seed the loader so a later reference to these users in the same request costs no SQL.
      for (const user of users) loaders.userById.prime(user.id, user);
      return users;
    },
  },
  User: {
    __resolveReference: (reference, { loaders }) => {
      const userId = parseIntId(reference.id);
      return userId === null ? null : loaders.userById.load(userId);
    },
    id: (user) => String(user.id),
    // Ownership is the accounts subgraph's rule: the gateway only knows who is signed in.
    email: (user, _args, { identity }) => (identity.userId === user.id ? user.email : null),
  },
};
