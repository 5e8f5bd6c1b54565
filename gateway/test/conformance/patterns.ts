import { GraphQLError } from 'graphql';
import { FEDERATION_LINK, type CaseSubgraph } from './harness.ts';

/**
 * The four federation patterns of issue 15 that @apollo/gateway's planner answers wrongly,
 * each as the smallest supergraph that shows it.
 */

const COMMENTS = [
  { id: 'c1', authorId: 'a1' },
  { id: 'c2', authorId: 'a2' },
  { id: 'c3', authorId: 'a3' },
  { id: 'c4', authorId: 'a4' },
];

/** 1. A client's `comments(limit: 1)` and the `comments(limit: 3)` that `Post.author` requires. */
export const requiresArgumentCollision: CaseSubgraph[] = [
  {
    name: 'posts',
    sdl: `${FEDERATION_LINK}
      type Query { feed: [Post!]! }
      type Post @key(fields: "id") { id: ID! comments(limit: Int!): [Comment!]! }
      type Comment @shareable { id: ID! authorId: ID! }`,
    resolvers: {
      Query: { feed: () => [{ id: 'p1' }] },
      Post: {
        __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
        comments: (_: unknown, args: { limit: number }) => {
          if (args.limit < 1) throw new GraphQLError('limit must be at least 1', { extensions: { code: 'BAD_USER_INPUT' } });
          return COMMENTS.slice(0, args.limit);
        },
      },
    },
  },
  {
    name: 'authors',
    sdl: `${FEDERATION_LINK}
      type Post @key(fields: "id") {
        id: ID!
        comments(limit: Int!): [Comment!]! @external
        author: Author @requires(fields: "comments(limit: 3) { authorId }")
      }
      type Comment @shareable { authorId: ID! @external }
      type Author { id: ID! }`,
    resolvers: {
      Post: {
        __resolveReference: (ref: { id: string; comments?: Array<{ authorId: string }> }) => ref,
        // The post's author is who wrote its three first comments, so three must arrive.
        author: (post: { comments?: Array<{ authorId: string }> }) => ({ id: (post.comments ?? []).map((c) => c.authorId).join(',') }),
      },
    },
  },
];

const THREAD = [{ id: 'c1', replies: [{ id: 'r1', authorId: 'a1' }, { id: 'r2', authorId: 'a2' }, { id: 'r3', authorId: 'a3' }] }];

/** 1, a level down: the collision is in the `@requires` field set's nested selection. */
export const nestedRequiresArgumentCollision: CaseSubgraph[] = [
  {
    name: 'threads',
    sdl: `${FEDERATION_LINK}
      type Query { threads: [Thread!]! }
      type Thread @key(fields: "id") { id: ID! comments: [Note!]! }
      type Note @shareable { id: ID! replies(first: Int!): [Reply!]! }
      type Reply @shareable { id: ID! authorId: ID! }`,
    resolvers: {
      Query: { threads: () => [{ id: 't1' }] },
      Thread: { __resolveReference: (ref: { id: string }) => ref, comments: () => THREAD },
      Note: { replies: (note: (typeof THREAD)[number], args: { first: number }) => note.replies.slice(0, args.first) },
    },
  },
  {
    name: 'people',
    sdl: `${FEDERATION_LINK}
      type Thread @key(fields: "id") {
        id: ID!
        comments: [Note!]! @external
        participants: [ID!]! @requires(fields: "comments { replies(first: 2) { authorId } }")
      }
      type Note @shareable { replies(first: Int!): [Reply!]! @external }
      type Reply @shareable { authorId: ID! @external }`,
    resolvers: {
      Thread: {
        __resolveReference: (ref: object) => ref,
        participants: (t: { comments?: Array<{ replies: Array<{ authorId: string }> }> }) => (t.comments ?? []).flatMap((c) => c.replies.map((r) => r.authorId)),
      },
    },
  },
];

const PRICES: Record<string, number> = { USD: 100, EUR: 400 };

/** 2. Two `@requires` of the same field with different arguments. */
export const requiresArgumentConflict: CaseSubgraph[] = [
  {
    name: 'catalog',
    sdl: `${FEDERATION_LINK}
      type Query { product: Product }
      type Product @key(fields: "id") { id: ID! price(currency: String!): Int }`,
    resolvers: {
      Query: { product: () => ({ id: 'p1' }) },
      Product: {
        __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
        price: (_: unknown, args: { currency: string }) => PRICES[args.currency] ?? null,
      },
    },
  },
  {
    name: 'tax',
    sdl: `${FEDERATION_LINK}
      type Product @key(fields: "id") {
        id: ID!
        price(currency: String!): Int @external
        usdGross: Int @requires(fields: "price(currency: \\"USD\\")")
        eurGross: Int @requires(fields: "price(currency: \\"EUR\\")")
      }`,
    resolvers: {
      Product: {
        __resolveReference: (ref: object) => ref,
        usdGross: (p: { price?: number }) => (p.price == null ? null : (p.price * 11) / 10),
        eurGross: (p: { price?: number }) => (p.price == null ? null : (p.price * 11) / 10),
      },
    },
  },
];

/** 3. The subgraph owning a `@requires` field lists a non-resolvable key first. */
export const nonResolvableKeyFirst: CaseSubgraph[] = [
  {
    name: 'warehouse',
    sdl: `${FEDERATION_LINK}
      type Query { parcels: [Parcel!]! }
      type Parcel @key(fields: "upc") @key(fields: "sku") { upc: ID! sku: ID! weight: Int! }`,
    resolvers: {
      Query: { parcels: () => [{ upc: 'u1', sku: 's1', weight: 7 }] },
      Parcel: { __resolveReference: (ref: { upc?: string; sku?: string }) => ({ upc: 'u1', sku: 's1', weight: 7, ...ref }) },
    },
  },
  {
    name: 'shipping',
    sdl: `${FEDERATION_LINK}
      type Query { outgoing: [Parcel!]! }
      type Parcel @key(fields: "upc", resolvable: false) @key(fields: "sku") {
        upc: ID!
        sku: ID!
        weight: Int! @external
        cost: Int! @requires(fields: "weight")
      }`,
    resolvers: {
      Query: { outgoing: () => [{ upc: 'u1', sku: 's1' }] },
      Parcel: {
        // This subgraph finds parcels by sku only: that is what resolvable: false on upc says.
        __resolveReference: (ref: { sku?: string; weight?: number }) => (ref.sku ? { upc: 'u1', ...ref } : null),
        cost: (parcel: { weight: number }) => parcel.weight * 3,
      },
    },
  },
];

/** 4. An interface without implementations whose field lives only in a non-resolvable @interfaceObject. */
export const unimplementedInterface: CaseSubgraph[] = [
  {
    name: 'nodes',
    sdl: `${FEDERATION_LINK}
      type Query { a: Thing }
      interface Thing @key(fields: "id") { id: ID! }`,
    resolvers: {
      Query: { a: () => ({ __typename: 'Thing', id: '1' }) },
    },
  },
  {
    name: 'labels',
    sdl: `${FEDERATION_LINK}
      type Thing @key(fields: "id", resolvable: false) @interfaceObject { id: ID! label: String }`,
    resolvers: {},
  },
];
