import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareDatabases } from '../src/index.ts';
import { isSeeded, seed, seedStatus } from '../src/seed/index.ts';
import {
  INVENTORY_COUNT,
  ORDER_COUNT,
  PRODUCT_COUNT,
  REVIEW_COUNT,
  USER_COUNT,
  productUpc,
} from '../src/seed/constants.ts';
import { seedDataset } from '../src/seed/data.ts';
import type { SubgraphName } from '../src/subgraphs.ts';
import { subgraphDatabaseUrls } from '../src/urls.ts';
import { dropAll, uniqueDatabaseUrl, queryRows } from './helpers.ts';

let urls: Record<SubgraphName, string>;

async function count(url: string, table: string): Promise<number> {
  return Number((await queryRows<{ n: string }>(url, `SELECT count(*) AS n FROM ${table}`))[0]!.n);
}

/** A fingerprint of every seeded row that matters, computed by Postgres. */
async function fingerprint(): Promise<Record<string, string>> {
  const q = async (url: string, sql: string) => (await queryRows<{ md5: string }>(url, `SELECT md5(string_agg(r::text, '|' ORDER BY r::text)) AS md5 FROM (${sql}) r`))[0]!.md5;
  return {
    users: await q(urls.accounts, 'SELECT id, username, name, email, created_at FROM users'),
    products: await q(urls.products, 'SELECT upc, name, description, price, weight, category, popularity, created_at FROM products'),
    inventory: await q(urls.inventory, 'SELECT upc, quantity, warehouse, updated_at FROM inventory_items'),
    reviews: await q(urls.reviews, 'SELECT id, body, rating, author_id, product_upc, created_at FROM reviews'),
    orders: await q(urls.orders, 'SELECT id, user_id, status, total, idempotency_key, request_hash, created_at FROM orders'),
    orderLines: await q(urls.orders, 'SELECT id, order_id, product_upc, quantity, unit_price FROM order_lines'),
  };
}

beforeAll(async () => {
  urls = subgraphDatabaseUrls(uniqueDatabaseUrl('shopdb_seed'));
  await prepareDatabases(urls);
}, 60_000);

afterAll(async () => {
  if (urls) await dropAll(Object.values(urls));
});

describe('seedDataset', () => {
  it('is identical in a fresh process (no clock or Math.random involved)', async () => {
    const digest = (json: string) => createHash('sha256').update(json).digest('hex');
    const script =
      "import('./prisma/src/seed/data.ts').then((m) => process.stdout.write(JSON.stringify(m.seedDataset())))";
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: new URL('../../', import.meta.url),
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(digest(stdout)).toBe(digest(JSON.stringify(seedDataset())));
  }, 30_000);
});

describe('seed', () => {
  let first: Record<string, string>;

  it('loads the documented volumes', async () => {
    expect(await isSeeded(urls)).toBe(false);
    const result = await seed(urls);
    expect(result.seeded).toHaveLength(5);
    expect(result.counts).toMatchObject({ users: USER_COUNT, products: PRODUCT_COUNT, reviews: REVIEW_COUNT, orders: ORDER_COUNT });
    expect(await count(urls.accounts, 'users')).toBe(USER_COUNT);
    expect(await count(urls.products, 'products')).toBe(PRODUCT_COUNT);
    expect(await count(urls.inventory, 'inventory_items')).toBe(INVENTORY_COUNT);
    expect(await count(urls.reviews, 'reviews')).toBe(REVIEW_COUNT);
    expect(await count(urls.orders, 'orders')).toBe(ORDER_COUNT);
    expect(await isSeeded(urls)).toBe(true);
    first = await fingerprint();
  }, 60_000);

  it('is a no-op when already seeded', async () => {
    const result = await seed(urls);
    expect(result.seeded).toEqual([]);
    expect(result.skipped).toHaveLength(5);
    expect(await count(urls.reviews, 'reviews')).toBe(REVIEW_COUNT);
  });

  it('produces the same data on every run (reset reseeds identically)', async () => {
    await queryRows(urls.reviews, `INSERT INTO reviews (body, rating, author_id, product_upc) VALUES ('extra', 3, 1, $1)`, [productUpc(0)]);
    const result = await seed(urls, { reset: true });
    expect(result.seeded).toHaveLength(5);
    expect(await count(urls.reviews, 'reviews')).toBe(REVIEW_COUNT);
    expect(await fingerprint()).toEqual(first);
  }, 60_000);

  it('matches the in-memory data set and exported helpers', async () => {
    const data = seedDataset();
    const [user] = await queryRows<{ username: string }>(urls.accounts, 'SELECT username FROM users WHERE id = $1', [USER_COUNT]);
    expect(user?.username).toBe(data.users[USER_COUNT - 1]!.username);
    const upcs = await queryRows<{ upc: string }>(urls.products, 'SELECT upc FROM products ORDER BY upc');
    expect(upcs.map((r) => r.upc)).toEqual(Array.from({ length: PRODUCT_COUNT }, (_, i) => productUpc(i)));
    const soldOut = await count(urls.inventory, 'inventory_items WHERE quantity = 0');
    expect(soldOut).toBeGreaterThan(0);
    const statuses = await queryRows<{ status: string }>(urls.orders, 'SELECT DISTINCT status::text AS status FROM orders ORDER BY 1');
    expect(statuses.map((s) => s.status)).toEqual(['CANCELLED', 'CONFIRMED', 'DELIVERED', 'PAID', 'SHIPPED']);
  });

  it('lines up ids across the five databases', async () => {
    const userIds = new Set((await queryRows<{ id: number }>(urls.accounts, 'SELECT id FROM users')).map((r) => r.id));
    const prices = new Map(
      (await queryRows<{ upc: string; price: number }>(urls.products, 'SELECT upc, price FROM products')).map((r) => [r.upc, r.price]),
    );

    const inventory = await queryRows<{ upc: string }>(urls.inventory, 'SELECT upc FROM inventory_items');
    expect(new Set(inventory.map((r) => r.upc))).toEqual(new Set(prices.keys()));

    const reviews = await queryRows<{ author_id: number; product_upc: string; rating: number }>(
      urls.reviews,
      'SELECT DISTINCT author_id, product_upc, rating FROM reviews',
    );
    for (const r of reviews) {
      expect(userIds.has(r.author_id)).toBe(true);
      expect(prices.has(r.product_upc)).toBe(true);
      expect(r.rating).toBeGreaterThanOrEqual(1);
      expect(r.rating).toBeLessThanOrEqual(5);
    }

    const orderUsers = await queryRows<{ user_id: number }>(urls.orders, 'SELECT DISTINCT user_id FROM orders');
    for (const o of orderUsers) expect(userIds.has(o.user_id)).toBe(true);
    const lines = await queryRows<{ product_upc: string; unit_price: number }>(urls.orders, 'SELECT DISTINCT product_upc, unit_price FROM order_lines');
    for (const l of lines) expect(prices.get(l.product_upc)).toBe(l.unit_price);

    const badTotals = await queryRows(
      urls.orders,
      `SELECT o.id FROM orders o JOIN order_lines l ON l.order_id = o.id GROUP BY o.id, o.total
       HAVING o.total <> sum(l.quantity * l.unit_price) OR count(*) NOT BETWEEN 1 AND 4`,
    );
    expect(badTotals).toEqual([]);
    expect(await count(urls.orders, `orders WHERE idempotency_key <> 'seed-' || id`)).toBe(0);
  });

  it('leaves sequences ready for new rows', async () => {
    const [review] = await queryRows<{ id: number }>(
      urls.reviews,
      `INSERT INTO reviews (body, rating, author_id, product_upc) VALUES ('new', 5, 1, $1) RETURNING id`,
      [productUpc(0)],
    );
    expect(review?.id).toBe(REVIEW_COUNT + 1);
    const [order] = await queryRows<{ id: number }>(
      urls.orders,
      `INSERT INTO orders (user_id, total, idempotency_key, request_hash) VALUES (1, 0, 'test-key', 'h') RETURNING id`,
    );
    expect(order?.id).toBe(ORDER_COUNT + 1);
    const [user] = await queryRows<{ id: number }>(
      urls.accounts,
      `INSERT INTO users (username, name, email) VALUES ('new.user', 'New User', 'new.user@example.com') RETURNING id`,
    );
    expect(user?.id).toBe(USER_COUNT + 1);
    expect(await seedStatus(urls)).toEqual({ accounts: true, products: true, inventory: true, reviews: true, orders: true });
  });
});
