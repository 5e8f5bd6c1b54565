import { featureShop } from '../conformance/features.ts';
import { FEDERATION_LINK, type CaseSubgraph } from '../conformance/harness.ts';

/**
 * The feature shop (conformance/features.ts) with two more subgraphs shaped to make the gateway
 * batch: several fetches to `inventory` in one wave with different selections (merged under
 * aliases), the same products referenced many times (deduplicated representations), a field that
 * fails for one product only (an error inside a merged, deduplicated `_entities`), references
 * nobody can resolve (null entities), a root field that fails and is merged with an entity fetch,
 * and mutations whose results depend on the order they run in.
 */

/** Stock per product inventory knows; p9 is a product nobody knows (its references are null). */
const STOCK: Record<string, number> = { p1: 3, p2: 0 };
/** What each user viewed, repeats and an unknown product (p9) included. */
const VIEWS: Record<string, string[]> = { u1: ['p1', 'p2', 'p1', 'p9', 'p1', 'p2'], u2: ['p2', 'p2'] };
const FAVOURITES: Record<string, string> = { u1: 'p2', u2: 'p1' };

/** Mutation state: the visits counter, read back in the order the mutations ran. */
const counters = { visits: 0, restocks: 0 };

export const batchShop: CaseSubgraph[] = [
  ...featureShop,
  {
    name: 'inventory',
    sdl: `${FEDERATION_LINK}
      type Query { restocks: Int! headline: String @shareable }
      type Mutation { restock(upc: ID!): Product }
      type Product @key(fields: "upc") {
        upc: ID!
        stock: Int
        warehouse: String
        fragile: String
        price: Int! @external
        shipping: Int @requires(fields: "price")
      }`,
    resolvers: {
      Query: { restocks: () => counters.restocks, headline: () => 'from inventory' },
      Mutation: {
        restock: (_: unknown, { upc }: { upc: string }) => {
          counters.restocks += 1;
          return upc in STOCK ? { upc } : null;
        },
      },
      Product: {
        // p3's record is broken: resolving its reference throws, which @apollo/subgraph reports as
        // the whole _entities field failing (data null), not as one entity.
        __resolveReference: (ref: { upc: string; price?: number }) => {
          if (ref.upc === 'p3') throw new Error('inventory record p3 is corrupt');
          return ref.upc in STOCK ? ref : null;
        },
        stock: (p: { upc: string }) => STOCK[p.upc],
        warehouse: (p: { upc: string }) => `W-${p.upc}`,
        // Fails for p2 only: its error must land at p2's paths, and only there.
        fragile: (p: { upc: string }) => {
          if (p.upc === 'p2') throw new Error(`the ${p.upc} label fell off`);
          return `handle ${p.upc} with care`;
        },
        shipping: (p: { price: number }) => (p.price > 100 ? 0 : 5),
      },
    },
  },
  {
    name: 'activity',
    sdl: `${FEDERATION_LINK}
      type Query { trending: [Product!]! recent(limit: Int!): [Product!]! wishlist: [Product]! boom: String visits: Int! headline: String! @shareable }
      type Mutation { resetVisits: Int! visit(user: ID!): Visit! }
      type Visit { count: Int! user: User! }
      type User @key(fields: "id") { id: ID! viewed: [Product]! favourite: Product }
      type Product @key(fields: "upc", resolvable: false) { upc: ID! }`,
    resolvers: {
      Query: {
        trending: () => ['p2', 'p1', 'p2'].map((upc) => ({ upc })),
        // p3 is a product inventory fails to resolve: its reference fails the whole _entities call.
        wishlist: () => ['p1', 'p3', 'p2', 'p3'].map((upc) => ({ upc })),
        recent: (_: unknown, { limit }: { limit: number }) => ['p1', 'p9', 'p2', 'p1'].slice(0, limit).map((upc) => ({ upc })),
        // A root field that fails: merged into one request with entity fetches when batching.
        boom: () => {
          throw new Error('activity feed is down');
        },
        visits: () => counters.visits,
        headline: () => {
          throw new Error('no headline today');
        },
      },
      Mutation: {
        resetVisits: () => (counters.visits = 0),
        visit: (_: unknown, { user }: { user: string }) => ({ count: (counters.visits += 1), user: { id: user } }),
      },
      User: {
        __resolveReference: (ref: { id: string }) => ref,
        viewed: (u: { id: string }) => (VIEWS[u.id] ?? []).map((upc) => ({ upc })),
        favourite: (u: { id: string }) => (FAVOURITES[u.id] ? { upc: FAVOURITES[u.id] } : null),
      },
    },
  },
];
