// The seed's shape, exported so tests and load scripts can refer to the data without querying
// for it (e.g. "user 1000 exists", "productUpc(1999) is the last product").

export const SEED = 20240601;

export const USER_COUNT = 1_000;
export const PRODUCT_COUNT = 2_000;
/** One inventory item per product. */
export const INVENTORY_COUNT = PRODUCT_COUNT;
export const REVIEW_COUNT = 20_000;
export const ORDER_COUNT = 5_000;
export const MAX_LINES_PER_ORDER = 4;

/** Seeded timestamps lie in [SEED_START, SEED_END), fixed so they never depend on "now". */
export const SEED_START = Date.UTC(2023, 0, 1);
export const SEED_END = Date.UTC(2025, 0, 1);

export const CATEGORIES = [
  'Electronics',
  'Home & Kitchen',
  'Books',
  'Sports & Outdoors',
  'Toys & Games',
  'Clothing',
  'Beauty',
  'Garden',
  'Office',
  'Grocery',
] as const;
export type Category = (typeof CATEGORIES)[number];

export const WAREHOUSES = ['AMS-1', 'FRA-1', 'FRA-2', 'DUB-1', 'WAW-1'] as const;

export const ORDER_STATUSES = ['PENDING', 'CONFIRMED', 'REJECTED', 'PAID', 'SHIPPED', 'DELIVERED', 'CANCELLED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

// UPC-A: number system digit + 5-digit manufacturer + 5-digit item + check digit. All seeded
// products share one (made-up) manufacturer; the item number is index + 1.
const UPC_PREFIX = '0' + '48213';

/**
 * The upc of the seeded product at `index` (0-based, 0 .. PRODUCT_COUNT - 1): a valid 12-digit
 * UPC-A. Upcs sort in index order, since they share a prefix and are zero-padded.
 */
export function productUpc(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= PRODUCT_COUNT) {
    throw new RangeError(`product index ${index} is outside 0..${PRODUCT_COUNT - 1}`);
  }
  const body = UPC_PREFIX + String(index + 1).padStart(5, '0');
  let sum = 0;
  for (let i = 0; i < 11; i++) sum += Number(body[i]) * (i % 2 === 0 ? 3 : 1);
  return body + String((10 - (sum % 10)) % 10);
}
