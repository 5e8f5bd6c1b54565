// Generates the seed data set in memory: pure and deterministic (same output on every run),
// with no database involved, so it can be inserted anywhere and inspected by tests.
import { createHash } from 'node:crypto';
import {
  CATEGORIES,
  MAX_LINES_PER_ORDER,
  ORDER_COUNT,
  PRODUCT_COUNT,
  REVIEW_COUNT,
  SEED,
  SEED_END,
  SEED_START,
  USER_COUNT,
  WAREHOUSES,
  productUpc,
  type Category,
  type OrderStatus,
} from './constants.ts';
import { createRng, type Rng } from './prng.ts';
import {
  ADJECTIVES,
  BRANDS,
  CATEGORY_SPECS,
  EMAIL_DOMAINS,
  FIRST_NAMES,
  LAST_NAMES,
  PRODUCT_BLURBS,
  REVIEW_SENTENCES,
} from './vocabulary.ts';

export interface SeedUser { id: number; username: string; name: string; email: string; createdAt: Date }
export interface SeedProduct {
  upc: string; name: string; description: string; price: number; weight: number;
  category: Category; popularity: number; createdAt: Date;
  /** Not stored: the noun review texts refer to. */
  noun: string;
}
export interface SeedInventoryItem { upc: string; quantity: number; warehouse: string; updatedAt: Date }
export interface SeedReview { id: number; body: string; rating: number; authorId: number; productUpc: string; createdAt: Date }
export interface SeedOrderLine { id: number; orderId: number; productUpc: string; quantity: number; unitPrice: number }
export interface SeedOrder {
  id: number; userId: number; status: OrderStatus; total: number;
  idempotencyKey: string; requestHash: string; createdAt: Date; lines: SeedOrderLine[];
}

export interface SeedDataset {
  users: SeedUser[];
  products: SeedProduct[];
  inventory: SeedInventoryItem[];
  reviews: SeedReview[];
  orders: SeedOrder[];
  orderLines: SeedOrderLine[];
}

const DAY = 86_400_000;
const YEAR = 365 * DAY;

/** `count` instants in [from, to), sorted, so rows with higher ids are newer (as in real life). */
function sortedInstants(rng: Rng, count: number, from: number, to: number): Date[] {
  const times = Array.from({ length: count }, () => from + Math.floor(rng.next() * (to - from)));
  return times.sort((a, b) => a - b).map((t) => new Date(t));
}

function generateUsers(): SeedUser[] {
  const rng = createRng(SEED, 'users');
  const taken = new Set<string>();
  const created = sortedInstants(rng, USER_COUNT, SEED_START - YEAR, SEED_START);
  return created.map((createdAt, i) => {
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    // 70 x 60 name pairs for 1,000 users: collisions happen, and get a number like real sites.
    const base = `${first}.${last}`.toLowerCase();
    let username = base;
    for (let n = 2; taken.has(username); n++) username = `${base}${n}`;
    taken.add(username);
    return { id: i + 1, username, name: `${first} ${last}`, email: `${username}@${rng.pick(EMAIL_DOMAINS)}`, createdAt };
  });
}

/** A price in cents ending in 99, like shop prices do. */
function shopPrice(rng: Rng, [min, max]: [number, number]): number {
  const dollars = rng.int(Math.floor(min / 100), Math.floor(max / 100));
  return dollars * 100 + 99;
}

function generateProducts(): SeedProduct[] {
  const rng = createRng(SEED, 'products');
  const created = sortedInstants(rng, PRODUCT_COUNT, SEED_START - YEAR, SEED_START);
  return created.map((createdAt, i) => {
    const category = rng.pick(CATEGORIES);
    const spec = CATEGORY_SPECS[category];
    const noun = rng.pick(spec.nouns);
    const brand = rng.pick(BRANDS);
    const adjective = rng.pick(ADJECTIVES);
    // Cubed uniform: most products are niche, a few are very popular (a long tail).
    const popularity = Math.floor(10_000 * rng.next() ** 3);
    return {
      upc: productUpc(i),
      name: `${brand} ${adjective} ${noun}`,
      description: `The ${adjective.toLowerCase()} ${noun.toLowerCase()} from ${brand}. ${rng.pick(PRODUCT_BLURBS)} ${rng.pick(PRODUCT_BLURBS)}`,
      price: shopPrice(rng, spec.price),
      weight: rng.int(spec.weight[0], spec.weight[1]),
      category,
      popularity,
      createdAt,
      noun,
    };
  });
}

function generateInventory(products: readonly SeedProduct[]): SeedInventoryItem[] {
  const rng = createRng(SEED, 'inventory');
  return products.map((p) => ({
    upc: p.upc,
    // About one in eight is sold out, so "inStock: false" shows up in real queries.
    quantity: rng.chance(0.125) ? 0 : rng.int(1, 500),
    warehouse: rng.pick(WAREHOUSES),
    updatedAt: new Date(SEED_END - rng.int(0, 30 * DAY)),
  }));
}

/** Picks products in proportion to popularity (plus a floor, so every product can be picked). */
function popularityPicker(products: readonly SeedProduct[]): (rng: Rng) => SeedProduct {
  const cumulative: number[] = [];
  let total = 0;
  for (const p of products) cumulative.push((total += p.popularity + 50));
  return (rng) => {
    const r = rng.next() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    return products[lo]!;
  };
}

const RATING_WEIGHTS = [[1, 6], [2, 8], [3, 16], [4, 32], [5, 38]] as const;

function generateReviews(products: readonly SeedProduct[]): SeedReview[] {
  const rng = createRng(SEED, 'reviews');
  const pickProduct = popularityPicker(products);
  const created = sortedInstants(rng, REVIEW_COUNT, SEED_START, SEED_END);
  return created.map((createdAt, i) => {
    const product = pickProduct(rng);
    const rating = rng.weighted(RATING_WEIGHTS);
    const sentences = REVIEW_SENTENCES[rating - 1]!;
    const count = rng.int(1, 3);
    const parts: string[] = [];
    for (let s = 0; s < count; s++) {
      const sentence = rng.pick(sentences).replace('{noun}', product.noun.toLowerCase());
      if (!parts.includes(sentence)) parts.push(sentence);
    }
    return { id: i + 1, body: parts.join(' '), rating, authorId: rng.int(1, USER_COUNT), productUpc: product.upc, createdAt };
  });
}

/** Same definition as the orders subgraph's: sha256 of the lines as sorted [upc, quantity] pairs. */
function requestHash(lines: readonly { productUpc: string; quantity: number }[]): string {
  const canonical = [...lines]
    .sort((a, b) => (a.productUpc < b.productUpc ? -1 : a.productUpc > b.productUpc ? 1 : 0))
    .map((l) => [l.productUpc, l.quantity]);
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

function orderStatus(rng: Rng, createdAt: Date): OrderStatus {
  const age = SEED_END - createdAt.getTime();
  if (rng.chance(0.05)) return 'CANCELLED';
  if (age < 3 * DAY) return rng.weighted([['CONFIRMED', 1], ['PAID', 2]] as const);
  if (age < 10 * DAY) return rng.weighted([['PAID', 1], ['SHIPPED', 3]] as const);
  if (age < 30 * DAY) return rng.weighted([['SHIPPED', 1], ['DELIVERED', 3]] as const);
  return 'DELIVERED';
}

function generateOrders(products: readonly SeedProduct[]): { orders: SeedOrder[]; orderLines: SeedOrderLine[] } {
  const rng = createRng(SEED, 'orders');
  const pickProduct = popularityPicker(products);
  // Order age (time before SEED_END) is skewed towards recent, age = span * u^1.5 for uniform u,
  // so that in-flight statuses (pending, paid, shipped) are not vanishingly rare.
  const span = SEED_END - SEED_START;
  const created = Array.from({ length: ORDER_COUNT }, () => SEED_END - 1 - Math.floor(span * rng.next() ** 1.5))
    .sort((a, b) => a - b)
    .map((t) => new Date(t));
  const orderLines: SeedOrderLine[] = [];
  const orders = created.map((createdAt, i) => {
    const id = i + 1;
    const lineCount = rng.weighted([[1, 45], [2, 30], [3, 15], [4, 10]] as const);
    const chosen = new Map<string, SeedProduct>();
    while (chosen.size < Math.min(lineCount, MAX_LINES_PER_ORDER)) {
      const p = pickProduct(rng);
      chosen.set(p.upc, p);
    }
    const lines = [...chosen.values()].map((p, k) => ({
      id: orderLines.length + 1 + k,
      orderId: id,
      productUpc: p.upc,
      quantity: rng.weighted([[1, 70], [2, 20], [3, 10]] as const),
      unitPrice: p.price,
    }));
    orderLines.push(...lines);
    return {
      id,
      userId: rng.int(1, USER_COUNT),
      status: orderStatus(rng, createdAt),
      total: lines.reduce((sum, l) => sum + l.quantity * l.unitPrice, 0),
      idempotencyKey: `seed-${id}`,
      requestHash: requestHash(lines),
      createdAt,
      lines,
    };
  });
  return { orders, orderLines };
}

let cached: SeedDataset | undefined;

/** The whole seed data set (generated once per process, ~50 ms). */
export function seedDataset(): SeedDataset {
  if (!cached) {
    const products = generateProducts();
    cached = {
      users: generateUsers(),
      products,
      inventory: generateInventory(products),
      reviews: generateReviews(products),
      ...generateOrders(products),
    };
  }
  return cached;
}
