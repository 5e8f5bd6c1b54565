import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { buildSchema, graphql, type GraphQLFormattedError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { requestBatcher, type OutgoingRequest, type PlanFetch } from '../../src/fetch-batching/request-batcher.ts';

// The batcher with a fake transport that records every request it is sent and answers it by
// executing the operation on a small subgraph-like schema with graphql-js: a merged operation the
// subgraph could not run would fail here as it would there. Each fetch's answer is compared with
// what the same fetch gets when sent alone.

const schema = buildSchema(`
  scalar _Any
  union _Entity = Product
  type Product { upc: ID! name: String! price: Int! broken: String tags: [String!]! }
  type Query {
    _entities(representations: [_Any!]!): [_Entity]!
    top(n: Int!): [Product!]!
    hello(name: String!): String!
    boom: String!
  }
`);

const PRODUCTS: Record<string, { name: string; price: number }> = {
  p1: { name: 'Lamp', price: 20 },
  p2: { name: 'Desk', price: 150 },
  p3: { name: 'Chair', price: 60 },
};
/** A product as the subgraph resolves it; `broken` fails for p2 only. */
const product = (upc: string) =>
  PRODUCTS[upc]
    ? {
        __typename: 'Product',
        upc,
        ...PRODUCTS[upc],
        tags: ['a', 'b'],
        broken: () => {
          if (upc === 'p2') throw new Error(`broken ${upc}`);
          return `ok ${upc}`;
        },
      }
    : null;
const rootValue = {
  _entities: ({ representations }: { representations: Array<{ upc: string }> }) => {
    // As @apollo/subgraph does when a reference resolver throws: the whole (non-null) field fails.
    if (representations.some((r) => r.upc === 'bad')) throw new Error('cannot resolve bad');
    return representations.map((r) => product(r.upc));
  },
  top: ({ n }: { n: number }) => Object.keys(PRODUCTS).slice(0, n).map(product),
  hello: ({ name }: { name: string }) => `hello ${name}`,
  boom: () => {
    throw new Error('boom');
  },
};

/** What a subgraph answers, as JSON (the formatted errors a subgraph sends, no locations). */
async function execute(query: string, variables: Record<string, unknown>): Promise<GatewayGraphQLResponse> {
  const result = await graphql({ schema, source: query, variableValues: variables, rootValue });
  const json = JSON.parse(JSON.stringify(result)) as GatewayGraphQLResponse;
  return json.errors ? { ...json, errors: json.errors.map(({ message, path }) => ({ message, ...(path ? { path } : {}) })) } : json;
}

type Fetch = PlanFetch & { id: string };

/** A transport that records requests; `answer` defaults to executing them on the schema above. */
function fakeTransport(answer: (request: OutgoingRequest) => Promise<GatewayGraphQLResponse> = (r) => execute(r.query, r.variables)) {
  const sent: OutgoingRequest[] = [];
  const failedFor: string[] = [];
  const batcher = requestBatcher<Fetch>({
    send: async (request) => {
      sent.push(structuredClone(request));
      return answer(request);
    },
    failed: (error, fetch) => {
      failedFor.push(fetch.id);
      return { errors: [{ message: `failed: ${(error as Error).message}`, extensions: { code: 'SUBGRAPH_UNAVAILABLE', fetch: fetch.id } }] };
    },
  });
  return { batcher, sent, failedFor };
}

const ENTITY_NAME = 'query($representations:[_Any!]!){_entities(representations:$representations){...on Product{upc name}}}';
const ENTITY_PRICE = 'query($representations:[_Any!]!){_entities(representations:$representations){...on Product{price tags}}}';
const ENTITY_BROKEN = 'query($representations:[_Any!]!){_entities(representations:$representations){...on Product{upc broken}}}';
const TOP = 'query Top($n:Int!){top(n:$n){...P}} fragment P on Product{upc name}';
const HELLO = 'query Hello($name:String!){greeting:hello(name:$name)}';

const reps = (...upcs: string[]) => upcs.map((upc) => ({ __typename: 'Product', upc }));
const entityFetch = (id: string, query: string, ...upcs: string[]): Fetch => ({ id, query, operationName: undefined, variables: { representations: reps(...upcs) } });
const rootFetch = (id: string, query: string, variables: Record<string, unknown>, operationName?: string): Fetch => ({ id, query, operationName, variables });

/** The answer of each fetch sent alone (a fresh batcher per fetch: nothing to batch with). */
async function alone(fetch: Fetch): Promise<GatewayGraphQLResponse> {
  return fakeTransport().batcher.fetch({}, fetch);
}

/** Errors in a comparable order: parallel parts may answer in any order, only the set matters. */
const sorted = (errors: readonly GraphQLFormattedError[] | undefined) => [...(errors ?? [])].map((e) => JSON.stringify(e)).sort();

describe('requestBatcher: the same operation from several fetches', () => {
  it('concatenates them into one _entities call, each representation once, answers in each fetch’s own order', async () => {
    const { batcher, sent } = fakeTransport();
    const key = {};
    const fetches = [entityFetch('a', ENTITY_NAME, 'p1', 'p2'), entityFetch('b', ENTITY_NAME, 'p3', 'p2', 'p1'), entityFetch('c', ENTITY_NAME, 'p1', 'p1')];
    const answers = await Promise.all(fetches.map((f) => batcher.fetch(key, f)));

    expect(sent).toHaveLength(1);
    expect(sent[0]!.query).toBe(ENTITY_NAME);
    expect(sent[0]!.variables).toEqual({ representations: reps('p1', 'p2', 'p3') });
    expect(sent[0]!).toMatchObject({ fetches: 3, representations: 3 });
    const names = (r: GatewayGraphQLResponse) => (r.data!._entities as Array<{ upc: string }>).map((e) => e.upc);
    expect(answers.map(names)).toEqual([['p1', 'p2'], ['p3', 'p2', 'p1'], ['p1', 'p1']]);
    for (const [i, fetch] of fetches.entries()) expect(answers[i]).toEqual(await alone(fetch));
  });

  it('tells representations apart by typename, key name, value and value type; composite keys by all their fields', async () => {
    const sentBy: OutgoingRequest[] = [];
    const { batcher } = fakeTransport(async (request) => {
      sentBy.push(structuredClone(request));
      const representations = request.variables.representations as unknown[];
      return { data: { _entities: representations.map((r) => ({ echo: JSON.stringify(r) })) } };
    });
    const representations = [
      { __typename: 'Product', upc: '1' },
      { __typename: 'Product', upc: 1 },
      { __typename: 'Variant', upc: '1' },
      { __typename: 'Product', id: '1' },
      { __typename: 'Product', upc: '1', sku: 'a' },
      { __typename: 'Product', upc: '1', sku: 'b' },
      { __typename: 'Product', upc: '1', sku: 'a' },
      { __typename: 'Product', upc: '1' },
      { __typename: 'Product', dims: { w: 1 } },
      { __typename: 'Product', dims: { w: 1 } },
      { __typename: 'Product', upc: 'x\u0000s1' },
    ];
    const answer = await batcher.fetch({}, { id: 'a', query: ENTITY_NAME, operationName: undefined, variables: { representations } });
    expect(sentBy[0]!.variables.representations).toEqual([...representations.slice(0, 6), representations[8], representations[10]]);
    expect((answer.data!._entities as Array<{ echo: string }>).map((e) => e.echo)).toEqual(representations.map((r) => JSON.stringify(r)));
  });

  it('gives every position of a repeated entity with nested objects its own copy: changing one changes no other', async () => {
    const { batcher } = fakeTransport();
    const key = {};
    const [a, b] = await Promise.all([batcher.fetch(key, entityFetch('a', ENTITY_PRICE, 'p1', 'p1')), batcher.fetch(key, entityFetch('b', ENTITY_PRICE, 'p1'))]);
    const all = [...(a.data!._entities as Array<Record<string, unknown>>), ...(b.data!._entities as Array<Record<string, unknown>>)];
    expect(all).toHaveLength(3);
    expect(new Set(all).size).toBe(3);
    // @apollo/gateway merges later fetches' fields into the objects it got: a shared object (or a
    // shared nested array) would leak one position's fields into another.
    (all[0]!.tags as string[]).push('mutated');
    all[0]!.price = -1;
    expect(all.slice(1).map((e) => [e.price, e.tags])).toEqual([
      [20, ['a', 'b']],
      [20, ['a', 'b']],
    ]);
  });

  it('deduplicates the representations of a fetch alone, answering each position', async () => {
    const { batcher, sent } = fakeTransport();
    const fetch = entityFetch('a', ENTITY_NAME, 'p2', 'p1', 'p2', 'p2');
    const answer = await batcher.fetch({}, fetch);
    expect(sent[0]!.variables.representations).toEqual(reps('p2', 'p1'));
    expect(answer).toEqual(await execute(fetch.query, fetch.variables));
  });

  it('sends identical root fetches once, each fetch getting its own copy of the data', async () => {
    const { batcher, sent } = fakeTransport();
    const key = {};
    const [a, b] = await Promise.all([batcher.fetch(key, rootFetch('a', TOP, { n: 2 }, 'Top')), batcher.fetch(key, rootFetch('b', TOP, { n: 2 }, 'Top'))]);
    expect(sent).toHaveLength(1);
    expect(a).toEqual(b);
    expect(a.data).not.toBe(b.data);
    expect(a).toEqual(await execute(TOP, { n: 2 }));
  });

  it('keeps fetches with the same query but different other variables apart (merged, not concatenated)', async () => {
    const { batcher, sent } = fakeTransport();
    const key = {};
    const [a, b] = await Promise.all([batcher.fetch(key, rootFetch('a', TOP, { n: 1 }, 'Top')), batcher.fetch(key, rootFetch('b', TOP, { n: 3 }, 'Top'))]);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.variables).toEqual({ _0_n: 1, _1_n: 3 });
    expect(a).toEqual(await execute(TOP, { n: 1 }));
    expect(b).toEqual(await execute(TOP, { n: 3 }));
  });
});

describe('requestBatcher: different operations to one subgraph', () => {
  it('merges them side by side under _0_/_1_/_2_ aliases, variables and fragments renamed, each fetch getting only its own fields', async () => {
    const { batcher, sent } = fakeTransport();
    const key = {};
    const fetches = [entityFetch('a', ENTITY_NAME, 'p1', 'p2', 'p1'), rootFetch('b', TOP, { n: 2 }, 'Top'), rootFetch('c', HELLO, { name: 'Ada' }, 'Hello'), entityFetch('d', ENTITY_PRICE, 'p2', 'p3')];
    const answers = await Promise.all(fetches.map((f) => batcher.fetch(key, f)));

    expect(sent).toHaveLength(1);
    const request = sent[0]!;
    expect(request).toMatchObject({ fetches: 4, representations: 4 });
    expect(request.operationName).toBe('Fetch__batch');
    // Renamed: every part's root fields, variables and fragments carry its prefix.
    expect(request.query).toContain('_0__entities: _entities(representations: $_0_representations)');
    expect(request.query).toContain('_1_top: top(n: $_1_n)');
    expect(request.query).toContain('...P'.replace('P', '_1_P'));
    expect(request.query).toContain('fragment _1_P on Product');
    expect(request.query).toContain('_2_greeting: hello(name: $_2_name)');
    expect(request.query).toContain('_3__entities: _entities(representations: $_3_representations)');
    expect(request.variables).toEqual({
      _0_representations: reps('p1', 'p2'),
      _1_n: 2,
      _2_name: 'Ada',
      _3_representations: reps('p2', 'p3'),
    });

    expect(answers.map((a) => Object.keys(a.data!))).toEqual([['_entities'], ['top'], ['greeting'], ['_entities']]);
    for (const [i, fetch] of fetches.entries()) expect(answers[i]).toEqual(await alone(fetch));
  });

  it('sends an operation the merge cannot take (fields in a root-level inline fragment) on its own', async () => {
    const { batcher, sent } = fakeTransport();
    const key = {};
    const inline = rootFetch('a', 'query Inline{...on Query{hello(name:"x")}}', {}, 'Inline');
    const fetches = [inline, rootFetch('b', HELLO, { name: 'Bob' }, 'Hello')];
    const answers = await Promise.all(fetches.map((f) => batcher.fetch(key, f)));
    expect(sent.map((r) => r.query).sort()).toEqual([HELLO, inline.query].sort());
    for (const [i, fetch] of fetches.entries()) expect(answers[i]).toEqual(await alone(fetch));
  });
});

describe('requestBatcher: errors', () => {
  it('routes an error at a path to the fetch and entity index it belongs to, replicated at every position of a deduplicated representation', async () => {
    const { batcher, sent } = fakeTransport();
    const key = {};
    // p2 (whose `broken` throws) is asked for by a at 1 and 3, by b at 0; c asks for other fields.
    const fetches = [entityFetch('a', ENTITY_BROKEN, 'p1', 'p2', 'p3', 'p2'), entityFetch('b', ENTITY_BROKEN, 'p2'), entityFetch('c', ENTITY_NAME, 'p2')];
    const [a, b, c] = await Promise.all(fetches.map((f) => batcher.fetch(key, f)));
    expect(sent).toHaveLength(1);
    expect(a!.errors?.map((e) => e.path)).toEqual([
      ['_entities', 1, 'broken'],
      ['_entities', 3, 'broken'],
    ]);
    expect(b!.errors?.map((e) => e.path)).toEqual([['_entities', 0, 'broken']]);
    expect(c!.errors).toBeUndefined();
    for (const [i, fetch] of fetches.entries()) {
      const own = await alone(fetch);
      const got = [a, b, c][i]!;
      expect(got.data).toEqual(own.data);
      expect(sorted(got.errors)).toEqual(sorted(own.errors));
    }
  });

  it('routes a root field’s error to its fetch only, the other parts keeping their data', async () => {
    const { batcher, sent } = fakeTransport();
    const key = {};
    // `boom: String!` fails: in the merged operation that nulls `data` as a whole, the other
    // parts' fields with it. Alone, b and c would have had their data: they must still get it.
    const fetches = [rootFetch('a', 'query Boom{boom}', {}, 'Boom'), entityFetch('b', ENTITY_NAME, 'p1'), rootFetch('c', HELLO, { name: 'Cy' }, 'Hello')];
    const answers = await Promise.all(fetches.map((f) => batcher.fetch(key, f)));
    // The merged request, then the parts that lost their data to a's failure again, together; a,
    // the only part with errors, is answered from the first (data null, as alone).
    expect(sent.map((r) => r.fetches)).toEqual([3, 2]);
    expect(answers[0]).toEqual({ data: null, errors: [{ message: 'boom', path: ['boom'] }] });
    for (const [i, fetch] of fetches.entries()) {
      const own = await alone(fetch);
      expect(answers[i]!.data, fetch.id).toEqual(own.data);
      expect(sorted(answers[i]!.errors), fetch.id).toEqual(sorted(own.errors));
    }
  });

  it('gives an error without a path to every fetch, merged or concatenated', async () => {
    const pathless = { message: 'subgraph is shedding load', extensions: { code: 'OVERLOADED' } };
    const { batcher, sent } = fakeTransport(async (request) => ({ ...(await execute(request.query, request.variables)), errors: [pathless] }));
    const key = {};
    const answers = await Promise.all([
      batcher.fetch(key, entityFetch('a', ENTITY_NAME, 'p1')),
      batcher.fetch(key, entityFetch('b', ENTITY_NAME, 'p1', 'p2')),
      batcher.fetch(key, rootFetch('c', HELLO, { name: 'Di' }, 'Hello')),
    ]);
    expect(sent).toHaveLength(1);
    for (const answer of answers) expect(answer.errors).toEqual([pathless]);
    expect(answers[1]!.data).toEqual({ _entities: [{ upc: 'p1', name: 'Lamp' }, { upc: 'p2', name: 'Desk' }] });
  });

  it('sends each part with errors again on its own when several could have nulled the merged answer', async () => {
    const { batcher, sent } = fakeTransport();
    const key = {};
    // a nulls the merged data; b has an error of its own (p2's `broken`) but alone keeps its data.
    // (b first: graphql-js stops at the first root field that nulls the data, later ones never run.)
    const fetches = [entityFetch('b', ENTITY_BROKEN, 'p1', 'p2'), rootFetch('a', 'query Boom{boom}', {}, 'Boom'), rootFetch('c', HELLO, { name: 'Cy' }, 'Hello')];
    const answers = await Promise.all(fetches.map((f) => batcher.fetch(key, f)));
    expect(sent.map((r) => r.fetches)).toEqual([3, 1, 1, 1]);
    for (const [i, fetch] of fetches.entries()) expect(answers[i], fetch.id).toEqual(await alone(fetch));
  });

  it('sends each fetch concatenated with a representation that failed the whole _entities call again on its own', async () => {
    const { batcher, sent } = fakeTransport();
    const key = {};
    const fetches = [entityFetch('a', ENTITY_NAME, 'p1', 'p2'), entityFetch('b', ENTITY_NAME, 'p2', 'bad'), entityFetch('c', ENTITY_NAME, 'p3', 'p1')];
    const answers = await Promise.all(fetches.map((f) => batcher.fetch(key, f)));
    expect(sent.map((r) => r.fetches)).toEqual([3, 1, 1, 1]);
    for (const [i, fetch] of fetches.entries()) expect(answers[i], fetch.id).toEqual(await alone(fetch));
    expect(answers[0]!.data).toEqual({ _entities: [{ upc: 'p1', name: 'Lamp' }, { upc: 'p2', name: 'Desk' }] });
    expect(answers[1]!.data).toBeNull();
  });

  it('answers a merged part whose _entities call failed from the merged answer, the others sent again together', async () => {
    const { batcher, sent } = fakeTransport();
    const key = {};
    const fetches = [entityFetch('a', ENTITY_NAME, 'p1'), entityFetch('b', ENTITY_PRICE, 'bad'), rootFetch('c', HELLO, { name: 'Hal' }, 'Hello')];
    const answers = await Promise.all(fetches.map((f) => batcher.fetch(key, f)));
    expect(sent.map((r) => r.fetches)).toEqual([3, 2]);
    for (const [i, fetch] of fetches.entries()) expect(answers[i], fetch.id).toEqual(await alone(fetch));
  });

  it('answers identical root fetches whose shared answer lost its data from that answer, not again', async () => {
    const { batcher, sent } = fakeTransport();
    const key = {};
    const fetches = [rootFetch('a', 'query Boom{boom}', {}, 'Boom'), rootFetch('b', 'query Boom{boom}', {}, 'Boom')];
    const answers = await Promise.all(fetches.map((f) => batcher.fetch(key, f)));
    expect(sent.map((r) => r.fetches)).toEqual([2]);
    for (const [i, fetch] of fetches.entries()) expect(answers[i], fetch.id).toEqual(await alone(fetch));
  });

  it('does not repeat a merged request refused as a whole (pathless errors, no data)', async () => {
    const refused = { message: 'too many requests', extensions: { code: 'RATE_LIMITED' } };
    const { batcher, sent } = fakeTransport(() => Promise.resolve({ data: null, errors: [refused] }));
    const key = {};
    const answers = await Promise.all([batcher.fetch(key, entityFetch('a', ENTITY_NAME, 'p1')), batcher.fetch(key, rootFetch('b', HELLO, { name: 'G' }, 'Hello'))]);
    expect(sent).toHaveLength(1);
    for (const answer of answers) expect(answer).toEqual({ data: null, errors: [refused] });
  });

  it('answers every fetch with transport.failed when the request fails as a whole', async () => {
    const { batcher, sent, failedFor } = fakeTransport(() => Promise.reject(new Error('connection refused')));
    const key = {};
    const fetches = [entityFetch('a', ENTITY_NAME, 'p1'), entityFetch('b', ENTITY_NAME, 'p1', 'p2'), rootFetch('c', HELLO, { name: 'Ed' }, 'Hello')];
    const answers = await Promise.all(fetches.map((f) => batcher.fetch(key, f)));
    expect(sent).toHaveLength(1);
    expect(failedFor.sort()).toEqual(['a', 'b', 'c']);
    expect(answers.map((a) => a.errors?.[0]?.extensions?.fetch)).toEqual(['a', 'b', 'c']);
    expect(answers.every((a) => a.errors?.[0]?.message === 'failed: connection refused')).toBe(true);
  });

  it('rejects a fetch whose failed answer cannot be made, the others unaffected', async () => {
    const batcher = requestBatcher<Fetch>({
      send: () => Promise.reject(new Error('down')),
      failed: (error, fetch) => {
        if (fetch.id === 'b') throw error;
        return { errors: [{ message: 'unavailable' }] };
      },
    });
    const key = {};
    const [a, b] = await Promise.allSettled([batcher.fetch(key, entityFetch('a', ENTITY_NAME, 'p1')), batcher.fetch(key, rootFetch('b', HELLO, { name: 'F' }))]);
    expect(a).toEqual({ status: 'fulfilled', value: { errors: [{ message: 'unavailable' }] } });
    expect(b.status).toBe('rejected');
  });
});

describe('requestBatcher: what is never batched together', () => {
  it('keeps the fetches of two different requests (context keys) in separate requests', async () => {
    const { batcher, sent } = fakeTransport();
    const [one, two] = [{}, {}];
    const answers = await Promise.all([batcher.fetch(one, entityFetch('a', ENTITY_NAME, 'p1')), batcher.fetch(two, entityFetch('b', ENTITY_NAME, 'p1'))]);
    expect(sent).toHaveLength(2);
    expect(sent.map((r) => r.fetches)).toEqual([1, 1]);
    expect(answers[0]).toEqual(answers[1]);
  });

  it('sends fetches started in different turns of the event loop as different requests', async () => {
    const { batcher, sent } = fakeTransport();
    const key = {};
    const first = await batcher.fetch(key, entityFetch('a', ENTITY_NAME, 'p1'));
    const second = await batcher.fetch(key, entityFetch('b', ENTITY_NAME, 'p1'));
    expect(sent).toHaveLength(2);
    expect(first).toEqual(second);
  });
});
