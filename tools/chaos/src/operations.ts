import { createHash, randomUUID } from 'node:crypto';
import type { SubgraphName } from '@shop/db';
import { productUpc, PRODUCT_COUNT, USER_COUNT } from '@shop/db/seed';
import type { Sample } from './load.ts';

/** A GraphQL answer as the load reads it. */
export interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message?: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
}

export interface PreparedRequest {
  body: string;
  headers: Record<string, string>;
  /** placeOrder's idempotency key: the same on every retry of this request. */
  idempotencyKey?: string;
  /** The body to send next when the answer asks for it (an APQ miss: the full query, as Apollo Client does). */
  followUp?(answer: GraphQLBody): string | undefined;
}

/** One of the shop's operations in the load mix. */
export interface Operation {
  name: string;
  /** The subgraphs whose fields it reads. */
  parts: readonly SubgraphName[];
  prepare(): PreparedRequest;
  /** Which parts' fields are missing (null) in an answer; every part when there is no data. */
  missing(answer: GraphQLBody): Set<SubgraphName>;
  /** The idempotency key of an order the answer acknowledges (placeOrder only). */
  acknowledged?(answer: GraphQLBody, request: PreparedRequest): string | undefined;
  /**
   * Error codes that are a whole and correct answer of this operation, not a failure: placeOrder's
   * OUT_OF_STOCK (the order was decided, REJECTED). Kept apart from the failures' codes.
   */
  answerCodes?: ReadonlySet<string>;
  /** Called with each final answer (undefined: none, a network error), for callers that keep more than the sample. */
  observe?(request: PreparedRequest, answer: GraphQLBody | undefined, sample: Sample): void;
}

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);

const TOP_PRODUCTS = `query ChaosTopProducts {
  topProducts(first: 3) {
    upc name price
    inStock quantity
    averageRating reviews(first: 2) { rating author { username } }
  }
}`;

const ME = `query ChaosMe {
  me { id username orders(first: 2) { id total lines { quantity product { upc name } } } }
}`;

const PLACE_ORDER = `mutation ChaosPlaceOrder($input: PlaceOrderInput!, $key: String!) {
  placeOrder(input: $input, idempotencyKey: $key) { id total status }
}`;

const PRODUCT_BY_APQ = `query ChaosProduct($upc: String!) { product(upc: $upc) { upc name price inStock } }`;
const PRODUCT_BY_APQ_HASH = createHash('sha256').update(PRODUCT_BY_APQ).digest('hex');

/** Parts missing from a product object: its own fields, inventory's, reviews' and their authors' (accounts). */
function productParts(product: unknown, missing: Set<SubgraphName>, fields: { inventory: boolean; reviews: boolean }): void {
  if (!isObj(product) || product.name == null || product.upc == null || product.price == null) {
    missing.add('products');
    return;
  }
  if (fields.inventory && (product.inStock == null || ('quantity' in product && product.quantity == null))) missing.add('inventory');
  if (fields.reviews) {
    if (!Array.isArray(product.reviews)) {
      missing.add('reviews');
      return;
    }
    for (const review of product.reviews) {
      if (!isObj(review) || review.rating == null) missing.add('reviews');
      else if (!isObj(review.author) || review.author.username == null) missing.add('accounts');
    }
  }
}

/**
 * The mix: a product listing touching products, inventory, reviews and accounts; a signed-in
 * user's orders; placing an order (a fresh idempotency key each, counted for the data check);
 * a product by automatic persisted query (hash first, the full query after a miss).
 */
export function operationMix(options: { runId: string; tokens: string[] }): Operation[] {
  const { runId, tokens } = options;
  let sequence = 0;
  const nextToken = () => tokens[sequence++ % tokens.length]!;
  const json = { 'content-type': 'application/json' };

  const topProducts: Operation = {
    name: 'topProducts',
    parts: ['products', 'inventory', 'reviews', 'accounts'],
    prepare: () => ({ headers: json, body: JSON.stringify({ query: TOP_PRODUCTS, operationName: 'ChaosTopProducts' }) }),
    missing(answer) {
      const missing = new Set<SubgraphName>();
      const list = answer.data?.topProducts;
      if (!Array.isArray(list) || list.length === 0) return new Set(this.parts);
      for (const product of list) productParts(product, missing, { inventory: true, reviews: true });
      return missing.has('products') ? new Set(this.parts) : missing;
    },
  };

  const me: Operation = {
    name: 'me',
    parts: ['accounts', 'orders', 'products'],
    prepare: () => ({
      headers: { ...json, authorization: `Bearer ${nextToken()}` },
      body: JSON.stringify({ query: ME, operationName: 'ChaosMe' }),
    }),
    missing(answer) {
      const user = answer.data?.me;
      if (!isObj(user) || user.username == null) return new Set(this.parts);
      const missing = new Set<SubgraphName>();
      if (!Array.isArray(user.orders)) {
        missing.add('orders');
        return missing;
      }
      for (const order of user.orders) {
        if (!isObj(order) || order.total == null || !Array.isArray(order.lines)) {
          missing.add('orders');
          continue;
        }
        for (const line of order.lines) {
          if (!isObj(line) || !isObj(line.product)) missing.add('orders');
          else if (line.product.name == null) missing.add('products');
        }
      }
      return missing;
    },
  };

  let orders = 0;
  const placeOrder: Operation = {
    name: 'placeOrder',
    parts: ['orders', 'products'],
    prepare() {
      orders += 1;
      const idempotencyKey = `chaos-${runId}-${orders}`;
      // Not the products the order runs count stock on (ORDER_RUN_PRODUCTS): their stock is the run's alone.
      const input = { lines: [{ upc: productUpc(orders % MIX_PRODUCT_COUNT), quantity: 1 + (orders % 3) }] };
      return {
        headers: { ...json, authorization: `Bearer ${nextToken()}` },
        body: JSON.stringify({ query: PLACE_ORDER, operationName: 'ChaosPlaceOrder', variables: { input, key: idempotencyKey } }),
        idempotencyKey,
      };
    },
    answerCodes: ORDER_ANSWER_CODES,
    missing(answer) {
      return placeOrderMissing(answer, this.parts);
    },
    acknowledged(answer, request) {
      return orderIdOf(answer) !== undefined ? request.idempotencyKey : undefined;
    },
  };

  let products = 0;
  const productByApq: Operation = {
    name: 'product (APQ)',
    parts: ['products', 'inventory'],
    prepare() {
      products += 1;
      const variables = { upc: productUpc((products * 7) % PRODUCT_COUNT) };
      const persistedQuery = { version: 1, sha256Hash: PRODUCT_BY_APQ_HASH };
      return {
        headers: json,
        body: JSON.stringify({ variables, extensions: { persistedQuery } }),
        followUp: (answer) =>
          answer.errors?.some((e) => e.extensions?.code === 'PERSISTED_QUERY_NOT_FOUND')
            ? JSON.stringify({ query: PRODUCT_BY_APQ, variables, extensions: { persistedQuery } })
            : undefined,
      };
    },
    missing(answer) {
      const missing = new Set<SubgraphName>();
      productParts(answer.data?.product, missing, { inventory: true, reviews: false });
      return missing.has('products') ? new Set(this.parts) : missing;
    },
  };

  return [topProducts, me, placeOrder, productByApq];
}

/** placeOrder's coded answers that are whole: OUT_OF_STOCK (the order is written, and decided REJECTED). */
export const ORDER_ANSWER_CODES: ReadonlySet<string> = new Set(['OUT_OF_STOCK']);
/** The gateway's codes for a subgraph it could not get an answer from. */
const UNREACHABLE = new Set(['SUBGRAPH_UNAVAILABLE', 'SUBGRAPH_TIMEOUT']);

/** Seeded products at the end of the range belong to the order runs (order-run.ts); the mix orders the others. */
export const ORDER_RUN_PRODUCTS = 20;
const MIX_PRODUCT_COUNT = PRODUCT_COUNT - ORDER_RUN_PRODUCTS;

/** The order an answer acknowledges: placeOrder's id, or OUT_OF_STOCK's extensions.orderId (the order is stored, REJECTED). */
export function orderIdOf(answer: GraphQLBody): string | undefined {
  const order = answer.data?.placeOrder;
  if (isObj(order) && order.id != null) return String(order.id);
  const refused = answer.errors?.find((e) => e.extensions?.code === 'OUT_OF_STOCK');
  const id = refused?.extensions?.orderId;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

/**
 * Parts missing from a placeOrder answer. OUT_OF_STOCK is a whole answer (the order was decided,
 * REJECTED), and so is an order answered PENDING (inventory down: it is written, and decided later).
 * The total is the products subgraph's prices: orders cannot place an order without them, so no
 * order means both parts missing; except when the gateway could not reach orders at all, where
 * only orders' part is (products was never asked).
 */
export function placeOrderMissing(answer: GraphQLBody, parts: readonly SubgraphName[]): Set<SubgraphName> {
  const order = answer.data?.placeOrder;
  if (isObj(order) && order.id != null && order.total != null) return new Set();
  const codes = (answer.errors ?? []).map((e) => e.extensions?.code);
  if (codes.length > 0 && codes.every((c) => typeof c === 'string' && ORDER_ANSWER_CODES.has(c))) return new Set();
  if (codes.length > 0 && codes.every((c) => typeof c === 'string' && UNREACHABLE.has(c))) return new Set(['orders']);
  return new Set(parts);
}

/** Users the load signs in as: spread over the seeded users. */
export function loadUserIds(count: number): number[] {
  return Array.from({ length: count }, (_, i) => 1 + ((i * 37) % USER_COUNT));
}

export const newRunId = () => randomUUID().slice(0, 8);
