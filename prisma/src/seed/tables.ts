// What the seed writes into each subgraph's database: its tables, how to recognise that the
// seed is already there, and how to insert it. Table and column names are the @@map/@map names
// from prisma/<name>/schema.prisma.
import type pg from 'pg';
import { ORDER_COUNT, PRODUCT_COUNT, REVIEW_COUNT, USER_COUNT } from './constants.ts';
import type { SeedDataset, SeedInventoryItem, SeedOrder, SeedOrderLine, SeedProduct, SeedReview, SeedUser } from './data.ts';
import { insertRows, syncSequence, utcTimestamp, type Column } from './insert.ts';
import type { SubgraphName } from '../subgraphs.ts';

export interface SubgraphSeed {
  /** Tables to truncate on reset. */
  tables: string[];
  /** True when the seed's last row is present (each database is seeded in one transaction). */
  isSeeded(client: pg.ClientBase, data: SeedDataset): Promise<boolean>;
  insert(client: pg.ClientBase, data: SeedDataset): Promise<Record<string, number>>;
}

const userColumns: Column<SeedUser>[] = [
  { name: 'id', type: 'int4', value: (u) => u.id },
  { name: 'username', type: 'text', value: (u) => u.username },
  { name: 'name', type: 'text', value: (u) => u.name },
  { name: 'email', type: 'text', value: (u) => u.email },
  { name: 'created_at', type: 'timestamp(3)', value: (u) => utcTimestamp(u.createdAt) },
];
const productColumns: Column<SeedProduct>[] = [
  { name: 'upc', type: 'text', value: (p) => p.upc },
  { name: 'name', type: 'text', value: (p) => p.name },
  { name: 'description', type: 'text', value: (p) => p.description },
  { name: 'price', type: 'int4', value: (p) => p.price },
  { name: 'weight', type: 'int4', value: (p) => p.weight },
  { name: 'category', type: 'text', value: (p) => p.category },
  { name: 'popularity', type: 'int4', value: (p) => p.popularity },
  { name: 'created_at', type: 'timestamp(3)', value: (p) => utcTimestamp(p.createdAt) },
];
const inventoryColumns: Column<SeedInventoryItem>[] = [
  { name: 'upc', type: 'text', value: (i) => i.upc },
  { name: 'quantity', type: 'int4', value: (i) => i.quantity },
  { name: 'warehouse', type: 'text', value: (i) => i.warehouse },
  { name: 'updated_at', type: 'timestamp(3)', value: (i) => utcTimestamp(i.updatedAt) },
];
const reviewColumns: Column<SeedReview>[] = [
  { name: 'id', type: 'int4', value: (r) => r.id },
  { name: 'body', type: 'text', value: (r) => r.body },
  { name: 'rating', type: 'int4', value: (r) => r.rating },
  { name: 'author_id', type: 'int4', value: (r) => r.authorId },
  { name: 'product_upc', type: 'text', value: (r) => r.productUpc },
  { name: 'created_at', type: 'timestamp(3)', value: (r) => utcTimestamp(r.createdAt) },
];
const orderColumns: Column<SeedOrder>[] = [
  { name: 'id', type: 'int4', value: (o) => o.id },
  { name: 'user_id', type: 'int4', value: (o) => o.userId },
  { name: 'status', type: 'order_status', value: (o) => o.status },
  { name: 'total', type: 'int4', value: (o) => o.total },
  { name: 'idempotency_key', type: 'text', value: (o) => o.idempotencyKey },
  { name: 'request_hash', type: 'text', value: (o) => o.requestHash },
  { name: 'created_at', type: 'timestamp(3)', value: (o) => utcTimestamp(o.createdAt) },
];
const orderLineColumns: Column<SeedOrderLine>[] = [
  { name: 'id', type: 'int4', value: (l) => l.id },
  { name: 'order_id', type: 'int4', value: (l) => l.orderId },
  { name: 'product_upc', type: 'text', value: (l) => l.productUpc },
  { name: 'quantity', type: 'int4', value: (l) => l.quantity },
  { name: 'unit_price', type: 'int4', value: (l) => l.unitPrice },
];

async function exists(client: pg.ClientBase, sql: string, params: unknown[]): Promise<boolean> {
  return ((await client.query(sql, params)).rowCount ?? 0) > 0;
}

export const SUBGRAPH_SEEDS: Record<SubgraphName, SubgraphSeed> = {
  accounts: {
    tables: ['users'],
    isSeeded: (c, d) =>
      exists(c, 'SELECT 1 FROM users WHERE id = $1 AND username = $2', [USER_COUNT, d.users.at(-1)!.username]),
    async insert(c, d) {
      await insertRows(c, 'users', userColumns, d.users);
      await syncSequence(c, 'users');
      return { users: d.users.length };
    },
  },
  products: {
    tables: ['products'],
    isSeeded: (c, d) => exists(c, 'SELECT 1 FROM products WHERE upc = $1', [d.products[PRODUCT_COUNT - 1]!.upc]),
    async insert(c, d) {
      await insertRows(c, 'products', productColumns, d.products);
      return { products: d.products.length };
    },
  },
  inventory: {
    tables: ['inventory_items'],
    isSeeded: (c, d) => exists(c, 'SELECT 1 FROM inventory_items WHERE upc = $1', [d.inventory.at(-1)!.upc]),
    async insert(c, d) {
      await insertRows(c, 'inventory_items', inventoryColumns, d.inventory);
      return { inventoryItems: d.inventory.length };
    },
  },
  reviews: {
    tables: ['reviews'],
    isSeeded: (c, d) => {
      const last = d.reviews[REVIEW_COUNT - 1]!;
      return exists(c, 'SELECT 1 FROM reviews WHERE id = $1 AND author_id = $2 AND product_upc = $3', [
        last.id,
        last.authorId,
        last.productUpc,
      ]);
    },
    async insert(c, d) {
      await insertRows(c, 'reviews', reviewColumns, d.reviews);
      await syncSequence(c, 'reviews');
      return { reviews: d.reviews.length };
    },
  },
  orders: {
    tables: ['order_lines', 'orders'],
    isSeeded: (c, d) => {
      const last = d.orders[ORDER_COUNT - 1]!;
      return exists(c, 'SELECT 1 FROM orders WHERE user_id = $1 AND idempotency_key = $2', [
        last.userId,
        last.idempotencyKey,
      ]);
    },
    async insert(c, d) {
      await insertRows(c, 'orders', orderColumns, d.orders);
      await insertRows(c, 'order_lines', orderLineColumns, d.orderLines);
      await syncSequence(c, 'orders');
      await syncSequence(c, 'order_lines');
      return { orders: d.orders.length, orderLines: d.orderLines.length };
    },
  },
};
