import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConformanceSupergraph, type ConformanceGateway, type ConformanceSupergraph, type GraphQLAnswer } from '../conformance/harness.ts';
import { batchShop } from './batch-shop.ts';

// One set of subgraphs (the feature shop plus two shaped to batch: batch-shop.ts) behind two real
// gateways on the same supergraph: `on` with the defaults (SUBGRAPH_BATCHING on) and `off` with
// batching off. Every query must be answered the same by both: `data` deep-equal and errors equal
// as a set (parallel fetches finish in any order, batched or not, so error order is not compared),
// with no more subgraph requests batched than not, strictly fewer where the query was made to batch.

let shop: ConformanceSupergraph;
let on: ConformanceGateway;
let off: ConformanceGateway;

beforeAll(async () => {
  shop = await startConformanceSupergraph(batchShop, {
    // The circuit breaker counts failed requests, and batching makes fewer: with a subgraph down,
    // the gateway without batching would open its circuit first and answer "not calling it until
    // it recovers" where the other still says "unavailable". Kept closed in both, the answers are
    // comparable message for message; what the breaker does is its own tests' business.
    gatewayEnv: { SUBGRAPH_BREAKER_WINDOW: '10000', SUBGRAPH_BREAKER_MIN_CALLS: '10000' },
    otherGatewayEnvs: [{ SUBGRAPH_BATCHING: 'false' }],
  });
  on = shop;
  off = shop.others[0]!;
});
afterAll(async () => {
  await shop?.close();
});

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** The answer and the subgraph requests it caused, the query sent alone (nothing else runs meanwhile). */
async function measured(gateway: ConformanceGateway, query: string, variables?: Record<string, unknown>) {
  const before = shop.subgraphRequests();
  const answer = await gateway.query(query, variables);
  const after = shop.subgraphRequests();
  const perSubgraph = Object.fromEntries(Object.keys(after).map((name) => [name, after[name]! - before[name]!]));
  return { answer, perSubgraph, requests: total(perSubgraph) };
}

/** Errors as a comparable set: path, message and code, sorted. */
const errorSet = (answer: GraphQLAnswer) =>
  (answer.errors ?? []).map((e) => JSON.stringify({ path: e.path ?? null, message: e.message, code: e.extensions?.code ?? null })).sort();

/**
 * Both gateways answer `query`; the answers must be the same and batching must not cost requests
 * (but `allowance` more, for an error case that says why). Returns both, for the checks a case adds.
 */
async function sameAnswer(query: string, expectFewer: boolean, variables?: Record<string, unknown>, allowance = 0) {
  const plain = await measured(off, query, variables);
  const batched = await measured(on, query, variables);
  expect(batched.answer.data, 'data, batching on vs off').toEqual(plain.answer.data);
  expect(errorSet(batched.answer), 'errors, batching on vs off').toEqual(errorSet(plain.answer));
  expect(batched.requests, `subgraph requests on ${JSON.stringify(batched.perSubgraph)} vs off ${JSON.stringify(plain.perSubgraph)}`).toBeLessThanOrEqual(plain.requests + allowance);
  if (expectFewer) expect(batched.requests, `batched ${JSON.stringify(batched.perSubgraph)} vs ${JSON.stringify(plain.perSubgraph)}`).toBeLessThan(plain.requests);
  return { plain, batched };
}

/** Queries the gateway batches: several fetches to one subgraph in one wave. */
const BATCHING = {
  // Three fetches to inventory after the first wave (products, reviews' products, trending), each
  // with its own selection: merged side by side under aliases. p2's `fragile` fails in two of them.
  merged: '{ products { upc stock } reviews { body product { upc warehouse fragile } } trending { upc fragile stock } }',
  // The same products many times (u1 viewed p1 three times, p2 twice, p9 nobody knows), and the
  // same across parts: deduplicated representations, errors for p2 at every position.
  deduplicated: '{ me { viewed { upc name stock fragile } favourite { upc name stock } } reviews { product { upc name stock fragile } author { name email } } }',
  // A root field that fails (activity's `boom`) merged with an entity fetch to the same subgraph.
  rootError: '{ me { name viewed { upc } } boom }',
  // Interface (with @interfaceObject) and union members, each needing entity fetches.
  abstract: '{ media { id title rating ... on Book { writer } } search { ... on Review { body product { upc stock name } } ... on User { email viewed { upc stock } } } }',
  // Null references: r3's product is gone, r4's author u9 accounts does not know; p9 nobody knows.
  nulls: '{ reviews { body product { upc name stock } author { id email viewed { upc name warehouse } } } }',
};

/** Queries answered the same, batching or not, that need not save a request. */
const OTHERS = {
  joins: '{ reviews { body author { id email } product { upc name price } } }',
  provides: '{ reviews { author { name } } }',
  // products.price → reviews.score → products.label, and inventory.shipping @requires(price).
  requiresChain: '{ products { upc label shipping } }',
  override: '{ me { email reviews { body } } }',
  interfaceObject: '{ media { id title rating ... on Book { writer } } }',
  union: '{ search { __typename ... on Review { body } ... on User { id name email } } }',
  inaccessible: '{ products { internalCode } }',
  requiresDeep: '{ reviews { product { label shipping stock } } me { reviews { product { label } } } }',
};

describe('batching on and off answer the same (SUBGRAPH_BATCHING)', () => {
  it.each(Object.entries(BATCHING))('answers %s the same, in fewer subgraph requests', async (_, query) => {
    await sameAnswer(query, true);
  });

  it.each(Object.entries(OTHERS))('answers %s the same, in no more subgraph requests', async (_, query) => {
    await sameAnswer(query, false);
  });

  it('answers the same with variables: a root field’s argument renamed in a merged request, @include/@skip on variables', async () => {
    // `recent` (activity, root) waits on nothing and joins the wave of the entity fetch to activity
    // for me.viewed: its $limit goes out renamed. With the conditions, Apollo's plan has Condition
    // nodes and is not rescheduled, but fetches started together are still batched.
    const query = `query ($n: Int!, $s: Boolean!) {
      me { viewed { upc } }
      recent(limit: $n) { upc stock fragile }
      products { upc stock @include(if: $s) warehouse @skip(if: $s) }
      trending { upc fragile @skip(if: $s) }
    }`;
    for (const variables of [
      { n: 3, s: true },
      { n: 4, s: false },
    ]) {
      await sameAnswer(query, false, variables);
    }
    // Without `stock` nothing waits on `recent`, so it moves to the wave of me.viewed: one request.
    const { batched } = await sameAnswer('query ($n: Int!) { me { viewed { upc } } recent(limit: $n) { upc } }', true, { n: 2 });
    expect(batched.answer.data?.recent).toEqual([{ upc: 'p1' }, { upc: 'p9' }]);
    expect(batched.perSubgraph.activity).toBe(1);
  });

  it('answers the same with named fragments spread at several paths', async () => {
    await sameAnswer(
      `{ products { ...P } reviews { product { ...P } author { ...U } } trending { ...P } me { ...U favourite { ...P } } }
       fragment P on Product { upc name stock warehouse fragile shipping }
       fragment U on User { id name viewed { upc ...P } }`,
      true,
    );
  });

  it('answers concurrent requests each with its own answer (fetches of different requests never batched together)', async () => {
    const queries = [...Object.values(BATCHING), ...Object.values(OTHERS)];
    const expected = await Promise.all(queries.map((q) => off.query(q)));
    const got = await Promise.all(queries.map((q) => on.query(q)));
    got.forEach((answer, i) => {
      expect(answer.data, queries[i]).toEqual(expected[i]!.data);
      expect(errorSet(answer), queries[i]).toEqual(errorSet(expected[i]!));
    });
  });

  it('answers a merged, deduplicated query with the expected data and p2’s error at each of its paths', async () => {
    const { batched } = await sameAnswer(BATCHING.merged, true);
    // One request to inventory for the three entity fetches of the second wave.
    expect(batched.perSubgraph.inventory).toBe(1);
    expect(batched.answer.data).toEqual({
      products: [
        { upc: 'p1', stock: 3 },
        { upc: 'p2', stock: 0 },
      ],
      reviews: [
        { body: 'Bright', product: { upc: 'p1', warehouse: 'W-p1', fragile: 'handle p1 with care' } },
        { body: 'Solid', product: { upc: 'p2', warehouse: 'W-p2', fragile: null } },
        { body: 'Lost', product: null },
        { body: 'Orphan', product: { upc: 'p1', warehouse: 'W-p1', fragile: 'handle p1 with care' } },
      ],
      trending: [
        { upc: 'p2', fragile: null, stock: 0 },
        { upc: 'p1', fragile: 'handle p1 with care', stock: 3 },
        { upc: 'p2', fragile: null, stock: 0 },
      ],
    });
    expect((batched.answer.errors ?? []).map((e) => e.path).sort()).toEqual([
      ['reviews', 1, 'product', 'fragile'],
      ['trending', 0, 'fragile'],
      ['trending', 2, 'fragile'],
    ]);
  });

  it('answers a failing root field merged with an entity fetch: the field null with its error, the rest intact', async () => {
    const { batched } = await sameAnswer(BATCHING.rootError, true);
    expect(batched.answer.data).toEqual({ me: { name: 'Ada', viewed: ['p1', 'p2', 'p1', 'p9', 'p1', 'p2'].map((upc) => ({ upc })) }, boom: null });
    expect(batched.answer.errors?.map((e) => [e.path, e.message])).toEqual([[['boom'], 'activity feed is down']]);
  });
  it('answers a failing non-null root field merged with an entity fetch: the entity fetch keeps its data', async () => {
    // `headline` is non-null in activity (nullable in the supergraph: inventory's is), so its
    // failure nulls the whole merged answer at the subgraph, the entity fetch's data with it: the
    // batcher sends the entity fetch again, so this error case costs as many requests as unbatched.
    const { plain, batched } = await sameAnswer('{ me { name viewed { upc } } headline }', false);
    expect(batched.perSubgraph).toEqual(plain.perSubgraph);
    expect(batched.answer.data).toEqual({ me: { name: 'Ada', viewed: ['p1', 'p2', 'p1', 'p9', 'p1', 'p2'].map((upc) => ({ upc })) }, headline: null });
    expect(batched.answer.errors?.map((e) => [e.path, e.message])).toEqual([[['headline'], 'no headline today']]);
  });
});

describe('a representation that fails a whole _entities call, batching on and off', () => {
  // inventory cannot resolve p3: @apollo/subgraph then fails the whole `_entities` field, which is
  // non-null, so the answer's data is null. Unbatched, that costs only the fetch that asked for p3;
  // batched, the fetches sharing its request must not lose their entities with it.
  it('answers the fetches concatenated with it as alone (each sent again on its own)', async () => {
    // trending and wishlist ask inventory the same thing: one _entities call, p3 in it.
    const { plain, batched } = await sameAnswer('{ trending { upc stock } wishlist { upc stock } }', false, undefined, 1);
    expect(batched.answer.data).toEqual({
      trending: [
        { upc: 'p2', stock: 0 },
        { upc: 'p1', stock: 3 },
        { upc: 'p2', stock: 0 },
      ],
      wishlist: [
        { upc: 'p1', stock: null },
        { upc: 'p3', stock: null },
        { upc: 'p2', stock: null },
        { upc: 'p3', stock: null },
      ],
    });
    // The batched request, then each fetch alone: one request more than unbatched, in this error
    // case only (which of the fetches failed it cannot be known without asking).
    expect(batched.perSubgraph.inventory).toBe(plain.perSubgraph.inventory! + 1);
  });

  it('answers the fetches merged with it as alone (the others sent again together)', async () => {
    // Different selections: two parts of a merged operation; the failing one is answered from
    // the merged answer, the other sent again: as many requests as unbatched.
    const { plain, batched } = await sameAnswer('{ trending { upc warehouse } wishlist { upc stock } }', false);
    expect(batched.answer.data?.trending).toEqual([
      { upc: 'p2', warehouse: 'W-p2' },
      { upc: 'p1', warehouse: 'W-p1' },
      { upc: 'p2', warehouse: 'W-p2' },
    ]);
    expect(batched.perSubgraph).toEqual(plain.perSubgraph);
  });
});

describe('mutations, batching on and off', () => {
  it('runs mutation fields on one subgraph in order, each answer seeing the one before', async () => {
    const query = 'mutation { resetVisits a: visit(user: "u1") { count } b: visit(user: "u1") { count } c: visit(user: "u2") { count } }';
    const { plain, batched } = await sameAnswer(query, false);
    expect(batched.answer).toEqual({ data: { resetVisits: 0, a: { count: 1 }, b: { count: 2 }, c: { count: 3 } } });
    expect(batched.perSubgraph).toEqual(plain.perSubgraph);
  });

  it('runs mutations across subgraphs one request each, in order, never merged, their follow-up fetches answered the same', async () => {
    const query = `mutation {
      resetVisits
      first: visit(user: "u1") { count user { name email } }
      restock(upc: "p1") { upc name stock }
      second: visit(user: "u2") { count user { name } }
      gone: restock(upc: "p9") { upc name }
    }`;
    const { plain, batched } = await sameAnswer(query, false);
    expect(batched.answer.data).toEqual({
      resetVisits: 0,
      first: { count: 1, user: { name: 'Ada', email: 'ada@accounts' } },
      restock: { upc: 'p1', name: 'Lamp', stock: 3 },
      second: { count: 2, user: { name: 'Bob' } },
      gone: null,
    });
    expect(batched.answer.errors).toBeUndefined();
    // activity, inventory, activity, inventory: four mutation requests, split by subgraph as
    // Apollo's plan splits them, with or without batching; a merged mutation would show fewer.
    expect(batched.perSubgraph.activity).toBe(plain.perSubgraph.activity);
    expect(batched.perSubgraph.inventory).toBe(plain.perSubgraph.inventory);
    expect(plain.perSubgraph.activity).toBeGreaterThanOrEqual(2);
    expect(plain.perSubgraph.inventory).toBeGreaterThanOrEqual(2);
  });
});

// Last: it stops a subgraph for good.
describe('a subgraph down, batching on and off', () => {
  it('answers its fields null with SUBGRAPH_* errors at the same paths, the rest of each answer intact', async () => {
    await shop.closeSubgraph('inventory');
    for (const query of [BATCHING.merged, BATCHING.deduplicated, BATCHING.abstract, OTHERS.requiresChain]) {
      const plain = await measured(off, query);
      const batched = await measured(on, query);
      expect(batched.answer.data, query).toEqual(plain.answer.data);
      expect(errorSet(batched.answer), query).toEqual(errorSet(plain.answer));
      expect(batched.requests).toBeLessThanOrEqual(plain.requests);
      const codes = new Set((batched.answer.errors ?? []).map((e) => String(e.extensions?.code)));
      expect([...codes].some((code) => code.startsWith('SUBGRAPH_')), `${query}: ${[...codes].join(', ')}`).toBe(true);
    }
    // The fields the others provide are still there.
    const { answer } = await measured(on, BATCHING.merged);
    expect(answer.data).toMatchObject({ products: [{ upc: 'p1', stock: null }, { upc: 'p2', stock: null }] });
  });
});
