import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConformanceSupergraph, type CaseSubgraph, type ConformanceSupergraph } from './harness.ts';
import { nestedRequiresArgumentCollision, nonResolvableKeyFirst, requiresArgumentCollision, requiresArgumentConflict, unimplementedInterface } from './patterns.ts';

/**
 * The four patterns of issue 15 that plain @apollo/gateway answers wrongly, through the real
 * gateway over HTTP: each answered as Hive Router does (pattern 2 with a coded error).
 */
function served(subgraphs: CaseSubgraph[]) {
  let supergraph: ConformanceSupergraph;
  beforeAll(async () => {
    supergraph = await startConformanceSupergraph(subgraphs);
  });
  afterAll(async () => {
    await supergraph?.close();
  });
  return (query: string, variables?: Record<string, unknown>) => supergraph.query(query, variables);
}

describe('pattern 1: client arguments colliding with @requires arguments', () => {
  const query = served(requiresArgumentCollision);
  // The author is computed from three comments; the client asked for one.
  const expected = { data: { feed: [{ author: { id: 'a1,a2,a3' }, comments: [{ id: 'c1' }] }] } };

  it('answers a literal argument with what the client asked for', async () => {
    expect(await query('{ feed { author { id } comments(limit: 1) { id } } }')).toEqual(expected);
  });

  it('answers a variable argument', async () => {
    expect(await query('query ($n: Int!) { feed { author { id } comments(limit: $n) { id } } }', { n: 1 })).toEqual(expected);
  });

  it('answers the field spread from two fragments', async () => {
    const document = `{ feed { ...A ...B } }
      fragment A on Post { author { id } comments(limit: 1) { id } }
      fragment B on Post { comments(limit: 1) { id } }`;
    expect(await query(document)).toEqual(expected);
  });

  it('keeps a client alias that is the required field’s name', async () => {
    expect(await query('{ feed { author { id } comments: comments(limit: 2) { id } } }')).toEqual({
      data: { feed: [{ author: { id: 'a1,a2,a3' }, comments: [{ id: 'c1' }, { id: 'c2' }] }] },
    });
  });

  it('names the client’s field, not the stage’s alias, in the path of an error inside it', async () => {
    const answer = await query('{ feed { id author { id } comments(limit: 0) { id } } }');
    expect(answer.errors?.map((e) => e.path)).toEqual([['feed', 0, 'comments']]);
    expect(JSON.stringify(answer)).not.toContain('_args_');
  });

  it('leaves the same arguments as the @requires merged', async () => {
    expect(await query('{ feed { comments(limit: 3) { id } author { id } } }')).toEqual({
      data: { feed: [{ comments: [{ id: 'c1' }, { id: 'c2' }, { id: 'c3' }], author: { id: 'a1,a2,a3' } }] },
    });
  });
});

describe('pattern 1, a level down: the collision inside the @requires field set', () => {
  const query = served(nestedRequiresArgumentCollision);

  it('answers the client’s replies(first: 1) while participants are computed from two replies', async () => {
    expect(await query('{ threads { participants comments { replies(first: 1) { id } } } }')).toEqual({
      data: { threads: [{ participants: ['a1', 'a2'], comments: [{ replies: [{ id: 'r1' }] }] }] },
    });
  });

  it('answers the same through a named fragment', async () => {
    expect(await query('{ threads { participants comments { ...R } } } fragment R on Note { replies(first: 1) { id } }')).toEqual({
      data: { threads: [{ participants: ['a1', 'a2'], comments: [{ replies: [{ id: 'r1' }] }] }] },
    });
  });
});

describe('pattern 2: two @requires of one field with different arguments', () => {
  const query = served(requiresArgumentConflict);

  it('refuses both together with QUERY_PLANNING_FAILED naming the conflicting fields, rather than answering one price for both', async () => {
    const answer = await query('{ product { usdGross eurGross } }');
    expect(answer.data).toBeNull();
    expect(answer.errors).toHaveLength(1);
    expect(answer.errors![0]!.extensions).toMatchObject({ code: 'QUERY_PLANNING_FAILED', reason: 'requires-argument-conflict', fields: ['Product.usdGross', 'Product.eurGross'] });
    expect(answer.errors![0]!.message).toContain('price(currency: "USD")');
  });

  it('answers each of them alone', async () => {
    expect(await query('{ product { usdGross } }')).toEqual({ data: { product: { usdGross: 110 } } });
    expect(await query('{ product { eurGross } }')).toEqual({ data: { product: { eurGross: 440 } } });
  });

  it('answers a client price next to a required one with each its own currency', async () => {
    expect(await query('{ product { usdGross price(currency: "EUR") } }')).toEqual({ data: { product: { usdGross: 110, price: 400 } } });
  });
});

describe('pattern 3: a non-resolvable key listed first', () => {
  const query = served(nonResolvableKeyFirst);

  it('re-enters the subgraph of a @requires field by a key it can resolve', async () => {
    expect(await query('{ outgoing { sku cost } }')).toEqual({ data: { outgoing: [{ sku: 's1', cost: 21 }] } });
  });
});

describe('pattern 4: an interface without implementations', () => {
  const query = served(unimplementedInterface);

  it('answers data: null and a QUERY_PLANNING_FAILED error, not a silent null', async () => {
    const answer = await query('{ a { label } }');
    expect(answer.data).toBeNull();
    expect(answer.errors?.map((e) => e.extensions)).toEqual([expect.objectContaining({ code: 'QUERY_PLANNING_FAILED', reason: 'no-implementation', coordinate: 'Thing.label' })]);
  });
});
