import { readFileSync } from 'node:fs';
import type { Logger } from '@shop/observability';
import { loadTypeDefs, startSubgraphServer, type ResolverMap, type RunningSubgraph } from '@shop/service-kit';

/**
 * In-memory copies of the reference benchmark's four subgraphs (The Guild's
 * graphql-gateways-benchmark, federation v2): same schema shapes, same data, same quirks,
 * so the gateway answers exactly `expected-response.json`. They do almost no work per
 * request, so the gateway in front of them is the bottleneck being measured.
 */

interface User {
  id: string;
  name: string;
  username: string;
  birthday: number;
}
interface Product {
  upc: string;
  name: string;
  price: number;
  weight: number;
}
interface Review {
  id: string;
  body: string;
  upc: string;
}
interface ReferenceData {
  users: User[];
  products: Product[];
  inventory: Array<{ upc: string; inStock: boolean }>;
  reviews: Review[];
}

export const REFERENCE_NAMES = ['accounts', 'products', 'inventory', 'reviews'] as const;
export type ReferenceName = (typeof REFERENCE_NAMES)[number];

const data = JSON.parse(readFileSync(new URL('../reference/reference-data.json', import.meta.url), 'utf8')) as ReferenceData;

export const referenceSchemaUrl = (name: ReferenceName) => new URL(`../reference/schemas/${name}.graphql`, import.meta.url);

// The reference: every review's author is user 1, and the reviews subgraph's User entity always
// has reviews 1 and 2, whoever the user is.
const AUTHOR = { id: '1', username: 'urigo' };
const USER_REVIEWS = data.reviews.filter((r) => r.id === '1' || r.id === '2');

const resolvers: Record<ReferenceName, ResolverMap<object>> = {
  accounts: {
    Query: {
      me: () => data.users[0],
      user: (_: unknown, args: { id: string }) => data.users.find((u) => u.id === args.id) ?? null,
      users: () => data.users,
    },
    User: {
      __resolveReference: (ref: { id: string }) => data.users.find((u) => u.id === ref.id) ?? null,
    },
  },
  products: {
    Query: {
      topProducts: (_: unknown, args: { first: number }) => data.products.slice(0, args.first),
    },
    Product: {
      __resolveReference: (ref: { upc: string }) => data.products.find((p) => p.upc === ref.upc) ?? null,
    },
  },
  inventory: {
    Product: {
      // The reference looks the product up by upc only and drops the price and weight the
      // gateway sends, so shippingEstimate has nothing to compute from and is null.
      __resolveReference: (ref: { upc: string }) => data.inventory.find((i) => i.upc === ref.upc) ?? null,
      shippingEstimate: (product: { price?: number; weight?: number }) => {
        if (product.price == null || product.weight == null) return null;
        return product.price > 1000 ? 0 : Math.round(product.weight * 0.5);
      },
    },
  },
  reviews: {
    Review: {
      __resolveReference: (ref: { id: string }) => data.reviews.find((r) => r.id === ref.id) ?? null,
      author: () => ({ __typename: 'User', ...AUTHOR }),
      product: (review: Review) => ({ __typename: 'Product', upc: review.upc }),
    },
    User: {
      __resolveReference: (ref: { id: string }) => ref,
      reviews: () => USER_REVIEWS,
    },
    Product: {
      __resolveReference: (ref: { upc: string }) => ref,
      reviews: (product: { upc: string }) => data.reviews.filter((r) => r.upc === product.upc),
    },
  },
};

export interface ReferenceSubgraphs {
  urls: Record<ReferenceName, string>;
  /** Requests each subgraph has answered so far: the gateway's subgraph fetches. */
  fetches(): Record<ReferenceName, number>;
  /** Bytes of the request bodies each subgraph has received so far. */
  requestBytes(): Record<ReferenceName, number>;
  close(): Promise<void>;
}

export async function startReferenceSubgraphs(logger: Logger, host = '127.0.0.1'): Promise<ReferenceSubgraphs> {
  const running = {} as Record<ReferenceName, RunningSubgraph>;
  for (const name of REFERENCE_NAMES) {
    running[name] = await startSubgraphServer(
      { name, typeDefs: loadTypeDefs(referenceSchemaUrl(name)), resolvers: resolvers[name], createContext: () => ({}) },
      // Unsigned: the peer gateways in the comparison do not sign their subgraph requests.
      { host, port: 0, logger, production: false, maxBodyBytes: 16 * 1024 * 1024, signature: null },
    );
  }
  return {
    urls: Object.fromEntries(REFERENCE_NAMES.map((n) => [n, running[n].url])) as Record<ReferenceName, string>,
    fetches: () => Object.fromEntries(REFERENCE_NAMES.map((n) => [n, running[n].server.requests.count])) as Record<ReferenceName, number>,
    requestBytes: () => Object.fromEntries(REFERENCE_NAMES.map((n) => [n, running[n].server.requests.bodyBytes])) as Record<ReferenceName, number>,
    close: async () => {
      await Promise.all(REFERENCE_NAMES.map((n) => running[n].close()));
    },
  };
}
