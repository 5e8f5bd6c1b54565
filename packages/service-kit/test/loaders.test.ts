import { describe, expect, it } from 'vitest';
import { createGroupedLoader, createKeyedLoader } from '../src/loaders/batch.ts';

describe('createKeyedLoader', () => {
  it('fetches a batch once, returns rows in key order and null for missing keys', async () => {
    const calls: number[][] = [];
    const loader = createKeyedLoader<number, { id: number }>(
      async (ids) => {
        calls.push([...ids]);
        // The database returns rows in its own order, and only those that exist.
        return ids.filter((id) => id !== 2).reverse().map((id) => ({ id }));
      },
      (row) => row.id,
      'test',
    );
    const results = await Promise.all([loader.load(3), loader.load(1), loader.load(2), loader.load(3)]);
    expect(results).toEqual([{ id: 3 }, { id: 1 }, null, { id: 3 }]);
    expect(calls).toEqual([[3, 1, 2]]);
  });

  it('caches within its lifetime, so one request never asks twice for a key', async () => {
    let fetches = 0;
    const loader = createKeyedLoader<string, { k: string }>(
      async (keys) => {
        fetches += 1;
        return keys.map((k) => ({ k }));
      },
      (row) => row.k,
      'test',
    );
    await loader.load('a');
    await loader.load('a');
    expect(fetches).toBe(1);
  });
});

describe('createGroupedLoader', () => {
  it('groups rows by parent key in one fetch, with an empty list for parents without rows', async () => {
    const calls: string[][] = [];
    const loader = createGroupedLoader<string, { parent: string; n: number }>(
      async (parents) => {
        calls.push([...parents]);
        return [
          { parent: 'b', n: 1 },
          { parent: 'a', n: 2 },
          { parent: 'b', n: 3 },
        ];
      },
      (row) => row.parent,
      'test',
    );
    const [a, b, c] = await Promise.all([loader.load('a'), loader.load('b'), loader.load('c')]);
    expect(a).toEqual([{ parent: 'a', n: 2 }]);
    expect(b).toEqual([
      { parent: 'b', n: 1 },
      { parent: 'b', n: 3 },
    ]);
    expect(c).toEqual([]);
    expect(calls).toHaveLength(1);
  });
});
