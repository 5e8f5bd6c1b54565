import { describe, expect, it } from 'vitest';
import { loadDatabaseEnv } from '../src/env.ts';
import { PRODUCT_COUNT, productUpc } from '../src/seed/constants.ts';
import { SUBGRAPHS } from '../src/subgraphs.ts';
import { databaseName, redact, subgraphDatabaseUrls, withDatabase } from '../src/urls.ts';

describe('subgraphDatabaseUrls', () => {
  it('derives one database per subgraph on the same server', () => {
    const urls = subgraphDatabaseUrls('postgres://u:secret@db.internal:6543/shop');
    expect(Object.keys(urls)).toEqual([...SUBGRAPHS]);
    expect(urls.accounts).toBe('postgres://u:secret@db.internal:6543/shop_accounts');
    expect(urls.orders).toBe('postgres://u:secret@db.internal:6543/shop_orders');
  });

  it('preserves the query string', () => {
    const urls = subgraphDatabaseUrls('postgresql://u@h:5432/shop?sslmode=require&connect_timeout=5');
    expect(urls.reviews).toBe('postgresql://u@h:5432/shop_reviews?sslmode=require&connect_timeout=5');
  });

  it('uses "shop" when the base URL names no database', () => {
    expect(subgraphDatabaseUrls('postgres://u@h:5432').products).toBe('postgres://u@h:5432/shop_products');
  });

  it('rejects something that is not a URL', () => {
    expect(() => subgraphDatabaseUrls('not a url')).toThrow(/Not a valid database URL/);
  });

  it('reads and replaces the database name', () => {
    expect(databaseName('postgres://u@h/shop_orders?x=1')).toBe('shop_orders');
    expect(withDatabase('postgres://u@h:1/a?x=1', 'postgres')).toBe('postgres://u@h:1/postgres?x=1');
    expect(redact('postgres://u:pw@h/db')).toBe('postgres://u:***@h/db');
  });
});

describe('loadDatabaseEnv', () => {
  it('derives from DATABASE_URL and lets per-subgraph variables override', () => {
    const { urls, sources } = loadDatabaseEnv({
      DATABASE_URL: 'postgres://u@h/shop',
      REVIEWS_DATABASE_URL: 'postgres://u@other/reviews',
    });
    expect(urls.accounts).toBe('postgres://u@h/shop_accounts');
    expect(urls.reviews).toBe('postgres://u@other/reviews');
    expect(sources.reviews).toBe('REVIEWS_DATABASE_URL');
  });

  it('names the bad variable', () => {
    expect(() => loadDatabaseEnv({ DATABASE_URL: 'postgres://u@h/shop', ORDERS_DATABASE_URL: 'mysql://x' })).toThrow(
      /ORDERS_DATABASE_URL: must be a postgres/,
    );
  });

  it('names the missing variables', () => {
    expect(() => loadDatabaseEnv({ ACCOUNTS_DATABASE_URL: 'postgres://u@h/a' })).toThrow(
      /DATABASE_URL.*PRODUCTS_DATABASE_URL/,
    );
  });
});

describe('productUpc', () => {
  it('gives distinct, sorted, valid 12-digit UPC-A codes', () => {
    const upcs = Array.from({ length: PRODUCT_COUNT }, (_, i) => productUpc(i));
    expect(new Set(upcs).size).toBe(PRODUCT_COUNT);
    expect([...upcs].sort()).toEqual(upcs);
    for (const upc of [upcs[0]!, upcs.at(-1)!]) {
      expect(upc).toMatch(/^\d{12}$/);
      const digits = [...upc].map(Number);
      const sum = digits.slice(0, 11).reduce((s, d, i) => s + d * (i % 2 === 0 ? 3 : 1), 0);
      expect((10 - (sum % 10)) % 10).toBe(digits[11]);
    }
    expect(() => productUpc(PRODUCT_COUNT)).toThrow(RangeError);
  });
});
