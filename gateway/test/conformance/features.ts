import { FEDERATION_LINK, type CaseSubgraph } from './harness.ts';

/**
 * The common federation features, in one small three-subgraph shop: entities across the
 * three, @provides, a @requires chain (products → reviews → products), @override,
 * @interfaceObject, interfaces and a union across subgraphs, @inaccessible, @shareable and
 * null entity references.
 */

const USERS = [
  { id: 'u1', name: 'Ada', email: 'ada@accounts' },
  { id: 'u2', name: 'Bob', email: 'bob@accounts' },
];
const MEDIA = [
  { __typename: 'Book', id: 'b1', title: 'Dune', writer: 'Herbert' },
  { __typename: 'Movie', id: 'm1', title: 'Alien' },
];
const PRODUCTS = [
  { upc: 'p1', name: 'Lamp', price: 20, internalCode: 'X-1' },
  { upc: 'p2', name: 'Desk', price: 150, internalCode: 'X-2' },
];
const REVIEWS = [
  { id: 'r1', body: 'Bright', authorId: 'u1', upc: 'p1' },
  { id: 'r2', body: 'Solid', authorId: 'u2', upc: 'p2' },
  // A review of a product that is gone: its reference is null.
  { id: 'r3', body: 'Lost', authorId: 'u1', upc: null },
  // A review by an account that is gone: accounts resolves its reference to null.
  { id: 'r4', body: 'Orphan', authorId: 'u9', upc: 'p1' },
];
const RATINGS: Record<string, number> = { b1: 5, m1: 3 };

const byId = <T extends { id: string }>(rows: T[]) => (ref: { id: string }) => rows.find((r) => r.id === ref.id) ?? null;

export const featureShop: CaseSubgraph[] = [
  {
    name: 'accounts',
    sdl: `${FEDERATION_LINK}
      type Query { me: User media: [Media!]! }
      type User @key(fields: "id") { id: ID! name: String! @shareable email: String @override(from: "reviews") }
      interface Media @key(fields: "id") { id: ID! title: String! }
      type Book implements Media @key(fields: "id") { id: ID! title: String! writer: String! }
      type Movie implements Media @key(fields: "id") { id: ID! title: String! }`,
    resolvers: {
      Query: { me: () => USERS[0], media: () => MEDIA },
      User: { __resolveReference: byId(USERS) },
      Media: { __resolveReference: byId(MEDIA), __resolveType: (m: { __typename: string }) => m.__typename },
      Book: { __resolveReference: byId(MEDIA) },
      Movie: { __resolveReference: byId(MEDIA) },
    },
  },
  {
    name: 'products',
    sdl: `${FEDERATION_LINK}
      type Query { products: [Product!]! }
      type Product @key(fields: "upc") {
        upc: ID!
        name: String! @shareable
        price: Int!
        internalCode: String @inaccessible
        score: Int @external
        label: String @requires(fields: "score")
      }`,
    resolvers: {
      Query: { products: () => PRODUCTS },
      Product: {
        __resolveReference: (ref: { upc: string; score?: number }) => {
          const product = PRODUCTS.find((p) => p.upc === ref.upc);
          return product ? { ...product, ...ref } : null;
        },
        label: (p: { name: string; score: number; internalCode: string }) => `${p.name} ${p.internalCode} scores ${p.score}`,
      },
    },
  },
  {
    name: 'reviews',
    sdl: `${FEDERATION_LINK}
      type Query { reviews: [Review!]! search: [Result!]! }
      union Result = Review | User
      type Review @key(fields: "id") { id: ID! body: String! author: User @provides(fields: "name") product: Product }
      type User @key(fields: "id") { id: ID! name: String! @external email: String reviews: [Review!]! }
      type Product @key(fields: "upc") { upc: ID! name: String! @shareable price: Int! @external score: Int @requires(fields: "price") }
      type Media @key(fields: "id") @interfaceObject { id: ID! rating: Int! }`,
    resolvers: {
      Query: {
        reviews: () => REVIEWS,
        search: () => [
          { __typename: 'Review', ...REVIEWS[0] },
          { __typename: 'User', id: 'u2' },
        ],
      },
      Result: { __resolveType: (r: { __typename: string }) => r.__typename },
      Review: {
        __resolveReference: byId(REVIEWS),
        // The review row knows its author's name: what @provides(fields: "name") promises.
        author: (r: { authorId: string }) => ({ id: r.authorId, name: USERS.find((u) => u.id === r.authorId)?.name ?? 'unknown' }),
        product: (r: { upc: string | null }) => (r.upc ? { upc: r.upc } : null),
      },
      User: {
        __resolveReference: (ref: { id: string }) => ref,
        // Overridden by accounts: the gateway must never ask for it here.
        email: () => 'stale@reviews',
        reviews: (u: { id: string }) => REVIEWS.filter((r) => r.authorId === u.id),
      },
      Product: {
        __resolveReference: (ref: { upc: string; price?: number }) => ref,
        name: (p: { upc: string }) => PRODUCTS.find((row) => row.upc === p.upc)?.name,
        score: (p: { price: number }) => Math.round(p.price / 10),
      },
      Media: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, rating: RATINGS[ref.id] }) },
    },
  },
];
