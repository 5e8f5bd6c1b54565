import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/embedded/index.ts';
import { migrate } from '../src/migrate.ts';
import { listMigrationNames } from '../src/migrations.ts';
import { migrationsDir, SUBGRAPHS } from '../src/subgraphs.ts';

let dataDir: string | undefined;
let running: EmbeddedPostgres | undefined;

async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } finally {
    client.release();
  }
}

afterAll(async () => {
  await running?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('embedded Postgres (PGlite over sockets)', () => {
  it('serves pg pools, runs migrations, and persists across restarts', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'shopdb-embedded-'));
    running = await startEmbeddedPostgres({ dataDir, basePort: 0 });
    expect(Object.keys(running.urls)).toEqual([...SUBGRAPHS]);
    for (const url of Object.values(running.urls)) expect(url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(new Set(Object.values(running.urls)).size).toBe(5);

    const names = await listMigrationNames(migrationsDir('reviews'));
    expect(await migrate('reviews', running.urls.reviews)).toEqual(names);
    expect(await migrate('reviews', running.urls.reviews)).toEqual([]);

    // Several connections at once, with parameterised (extended protocol) queries and
    // transactions interleaving: the socket server must keep each connection's messages apart.
    const pool = new pg.Pool({ connectionString: running.urls.reviews, max: 6 });
    try {
      await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const client = await pool.connect();
          try {
            await client.query('BEGIN');
            await client.query(`INSERT INTO reviews (body, rating, author_id, product_upc) VALUES ($1, $2, $3, 'u')`, [`r${i}`, 1 + (i % 5), i]);
            await client.query('COMMIT');
          } finally {
            client.release();
          }
        }),
      );
      const echoes = await Promise.all(Array.from({ length: 60 }, (_, i) => pool.query<{ v: number }>('SELECT $1::int AS v', [i])));
      expect(echoes.map((r) => r.rows[0]!.v)).toEqual(Array.from({ length: 60 }, (_, i) => i));
      const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM reviews');
      expect(Number(rows[0]!.n)).toBe(12);
      await expect(pool.query(`INSERT INTO reviews (body, rating, author_id, product_upc) VALUES ('x', 0, 1, 'u')`)).rejects.toThrow(/reviews_rating_check/);
    } finally {
      await pool.end();
    }

    // Writes and reads of different shapes from many connections at once, in and outside
    // transactions, with failures among them: each extended-protocol exchange (Parse/Bind/Execute/Sync) must
    // keep the session to itself, and a failed one must not stall the queue (pglite#1046).
    const writers = new pg.Pool({ connectionString: running.urls.reviews, max: 16 });
    try {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 400 }, (_, i) =>
          i % 4 === 0
            ? writers.query(`INSERT INTO reviews (body, rating, author_id, product_upc) VALUES ($1, $2, $3, $4)`, [`w${i}`, 1 + (i % 5), i, `p${i}`])
            : i % 4 === 1
              ? inTransaction(writers, (client) => client.query('UPDATE reviews SET body = body WHERE author_id = $1 AND body LIKE $2', [i - 1, 'w%']))
              : i % 4 === 2
                ? writers.query(`INSERT INTO reviews (body, rating, author_id, product_upc) VALUES ($1, 0, $2, 'u')`, [`bad${i}`, i])
                : writers.query<{ v: string }>('SELECT $1::text || $2::text AS v', [`a${i}`, 'b']),
        ),
      );
      const unexpected = outcomes.flatMap((o, i) =>
        (i % 4 === 2) === (o.status === 'rejected') ? [] : [`${i}: ${o.status === 'rejected' ? String(o.reason) : 'a bad rating was accepted'}`],
      );
      expect(unexpected).toEqual([]);
      for (const [i, o] of outcomes.entries()) {
        if (i % 4 === 2) expect(String((o as PromiseRejectedResult).reason)).toMatch(/reviews_rating_check/);
        if (i % 4 === 3) expect((o as PromiseFulfilledResult<pg.QueryResult<{ v: string }>>).value.rows[0]!.v).toBe(`a${i}b`);
      }
      const { rows } = await writers.query<{ n: string }>(`SELECT count(*) AS n FROM reviews WHERE body LIKE 'w%'`);
      expect(Number(rows[0]!.n)).toBe(100);
      await writers.query(`DELETE FROM reviews WHERE body LIKE 'w%'`);
    } finally {
      await writers.end();
    }

    await running.stop();
    running = await startEmbeddedPostgres({ dataDir, basePort: 0 });
    expect(await migrate('reviews', running.urls.reviews)).toEqual([]);
    const client = new pg.Client({ connectionString: running.urls.reviews });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM reviews');
      expect(Number(rows[0]!.n)).toBe(12);
    } finally {
      await client.end();
    }
  }, 120_000);
});
