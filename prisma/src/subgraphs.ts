// The five subgraphs that own a database, and where their Prisma files live.
// Everything else in @shop/db derives from this list, so adding a subgraph is one edit here
// plus its `prisma/<name>/schema.prisma`.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const SUBGRAPHS = ['accounts', 'products', 'inventory', 'reviews', 'orders'] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number];

export function isSubgraphName(value: string): value is SubgraphName {
  return (SUBGRAPHS as readonly string[]).includes(value);
}

/** Absolute path of the `prisma/` folder (this package's root), wherever the repo is cloned. */
export const PRISMA_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** `prisma/<name>/schema.prisma`. */
export function schemaPath(name: SubgraphName): string {
  return path.join(PRISMA_ROOT, name, 'schema.prisma');
}

/** `prisma/<name>/migrations`, in Prisma's own folder layout. */
export function migrationsDir(name: SubgraphName): string {
  return path.join(PRISMA_ROOT, name, 'migrations');
}

/** Apply `fn` to every subgraph, returning a record keyed by subgraph name. */
export function mapSubgraphs<T>(fn: (name: SubgraphName, index: number) => T): Record<SubgraphName, T> {
  return Object.fromEntries(SUBGRAPHS.map((name, i) => [name, fn(name, i)])) as Record<SubgraphName, T>;
}
