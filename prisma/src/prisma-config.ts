// Configuration for Prisma's own CLI, one config per subgraph (prisma/<name>/prisma.config.ts).
// Our tooling (db:generate, db:migrate, ...) does not need Prisma's CLI beyond `generate`; these
// configs exist so that anyone with the native engines (network access) can still run, e.g.
//   npx prisma migrate deploy --config prisma/reviews/prisma.config.ts
//   npx prisma migrate status --config prisma/reviews/prisma.config.ts
// against the same migration folders. Prisma 7 reads the connection URL from here (the schema
// no longer has `url`); it is resolved like our CLIs do, and left out when unset so that
// `prisma generate` (which needs no database) works in a bare environment.
import { defineConfig } from 'prisma/config';
import { loadDatabaseEnv } from './env.ts';
import { migrationsDir, schemaPath, type SubgraphName } from './subgraphs.ts';

export function subgraphPrismaConfig(name: SubgraphName): ReturnType<typeof defineConfig> {
  let url: string | undefined;
  try {
    url = loadDatabaseEnv().urls[name];
  } catch {
    url = undefined;
  }
  return defineConfig({
    schema: schemaPath(name),
    migrations: { path: migrationsDir(name) },
    ...(url ? { datasource: { url } } : {}),
  });
}
