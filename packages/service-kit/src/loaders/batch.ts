import DataLoader from 'dataloader';
import { traceBatch } from '@shop/observability';

/**
 * A loader for rows with a unique key: one fetch per batch, results returned in the
 * order of the keys asked, null for a key with no row.
 */
export function createKeyedLoader<K, V>(
  fetchMany: (keys: readonly K[]) => Promise<V[]>,
  keyOf: (row: V) => K,
  name: string,
): DataLoader<K, V | null> {
  return new DataLoader<K, V | null>(
    async (keys) => {
      const rows = await traceBatch(name, keys.length, () => fetchMany(keys));
      const byKey = new Map<K, V>();
      for (const row of rows) byKey.set(keyOf(row), row);
      return keys.map((key) => byKey.get(key) ?? null);
    },
    { name },
  );
}

/**
 * A loader for one-to-many relations: one fetch per batch for all parents, rows grouped
 * back by parent key (in the order the fetch returned them), an empty list for none.
 */
export function createGroupedLoader<K, V>(
  fetchMany: (keys: readonly K[]) => Promise<V[]>,
  groupKeyOf: (row: V) => K,
  name: string,
): DataLoader<K, V[]> {
  return new DataLoader<K, V[]>(
    async (keys) => {
      const rows = await traceBatch(name, keys.length, () => fetchMany(keys));
      const groups = new Map<K, V[]>();
      for (const row of rows) {
        const key = groupKeyOf(row);
        const group = groups.get(key);
        if (group) group.push(row);
        else groups.set(key, [row]);
      }
      return keys.map((key) => groups.get(key) ?? []);
    },
    { name },
  );
}

/**
 * Per-request memo of loaders that differ only by a page size (`reviews(first: 5)` and
 * `reviews(first: 10)` cannot share a batch, but every `first: 5` in a request does).
 */
export function loaderPerLimit<L>(make: (limit: number) => L): (limit: number) => L {
  const loaders = new Map<number, L>();
  return (limit) => {
    let loader = loaders.get(limit);
    if (!loader) {
      loader = make(limit);
      loaders.set(limit, loader);
    }
    return loader;
  };
}
