// Seeds the five subgraph databases with one deterministic, cross-consistent data set:
// reviews and orders reference users and products that exist in the accounts and products
// databases, because all of it comes from one generated data set (data.ts).
import pg from 'pg';
import { mapSubgraphs, SUBGRAPHS, type SubgraphName } from '../subgraphs.ts';
import { quoteIdent } from '../ensure-database.ts';
import { seedDataset } from './data.ts';
import { SUBGRAPH_SEEDS } from './tables.ts';

export * from './constants.ts';
export { seedDataset } from './data.ts';
export type { SeedDataset, SeedInventoryItem, SeedOrder, SeedOrderLine, SeedProduct, SeedReview, SeedUser } from './data.ts';

export interface SeedOptions {
  /** Truncate the seeded tables (RESTART IDENTITY) first, then seed. Discards all data. */
  reset?: boolean;
}

export interface SeedResult {
  /** Databases written by this call. */
  seeded: SubgraphName[];
  /** Databases that already held the seed (no-op). */
  skipped: SubgraphName[];
  /** Rows inserted per table. */
  counts: Record<string, number>;
  ms: number;
}

// Serialises concurrent seeders of the same database (two processes running db:seed):
// the second waits, then sees the seed is there and skips.
const SEED_LOCK_KEY = 0x5309_5eed;

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'shop-db seed' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function seedOne(
  name: SubgraphName,
  url: string,
  opts: SeedOptions,
): Promise<{ seeded: boolean; counts: Record<string, number> }> {
  const spec = SUBGRAPH_SEEDS[name];
  const data = seedDataset();
  return withClient(url, async (client) => {
    // One transaction per database: the seed is there entirely or not at all, which is what
    // lets isSeeded() look at a single row.
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [SEED_LOCK_KEY]);
      if (opts.reset) {
        await client.query(`TRUNCATE ${spec.tables.map(quoteIdent).join(', ')} RESTART IDENTITY CASCADE`);
      } else if (await spec.isSeeded(client, data)) {
        await client.query('COMMIT');
        return { seeded: false, counts: {} };
      }
      const counts = await spec.insert(client, data);
      await client.query('COMMIT');
      return { seeded: true, counts };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      const hint = opts.reset ? '' : ' (if the database holds other data, reseed with reset: true / --reset)';
      throw new Error(`Seeding ${name} failed: ${(error as Error).message}${hint}`, { cause: error });
    }
  });
}

/**
 * Seeds every subgraph database (migrations must have run). Without `reset`, a database that
 * already holds the seed is left alone, so calling this on every start is cheap.
 */
export async function seed(urls: Record<SubgraphName, string>, opts: SeedOptions = {}): Promise<SeedResult> {
  const started = performance.now();
  // Databases are independent, so seed them in parallel.
  const results = await Promise.all(SUBGRAPHS.map((name) => seedOne(name, urls[name], opts)));
  const counts: Record<string, number> = {};
  for (const r of results) Object.assign(counts, r.counts);
  return {
    seeded: SUBGRAPHS.filter((_, i) => results[i]!.seeded),
    skipped: SUBGRAPHS.filter((_, i) => !results[i]!.seeded),
    counts,
    ms: Math.round(performance.now() - started),
  };
}

/** Per database: does it hold the seed? */
export async function seedStatus(urls: Record<SubgraphName, string>): Promise<Record<SubgraphName, boolean>> {
  const data = seedDataset();
  const entries = await Promise.all(
    SUBGRAPHS.map((name) => withClient(urls[name], (client) => SUBGRAPH_SEEDS[name].isSeeded(client, data))),
  );
  return mapSubgraphs((_, i) => entries[i]!);
}

/** True when all five databases hold the seed. */
export async function isSeeded(urls: Record<SubgraphName, string>): Promise<boolean> {
  return Object.values(await seedStatus(urls)).every(Boolean);
}
