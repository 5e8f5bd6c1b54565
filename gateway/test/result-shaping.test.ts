import { createRequire } from 'node:module';
import { buildSchema, operationFromDocument, type Operation } from '@apollo/federation-internals';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { compileShaping, shapeResponse } from '../src/result-shaping/compiled-shaping.ts';

// The compiled result shaping against Apollo's own computeResponse, value for value: the same
// data (also where a null bubbles up), the same errors at the same paths, on inputs a subgraph
// may send (nulls in non-null places, unknown __typename, invalid leaves, abstract types).

const require = createRequire(import.meta.url);
const apollo = require('@apollo/gateway/dist/resultShaping.js') as {
  computeResponse: (args: { operation: Operation; variables?: Record<string, unknown>; input: unknown; introspectionHandling: unknown }) => { data: unknown; errors: Array<{ message: string; path?: unknown }> };
};

const schema = buildSchema(`
  type Query { products: [Product!]! top: Product search: [Result] node(id: ID!): Node me: User! count: Int status: Status }
  interface Node { id: ID! }
  type Product implements Node { id: ID! name: String! price: Float tags: [String!] reviews: [Review!] }
  type Review implements Node { id: ID! body: String author: User! }
  type User implements Node { id: ID! name: String friends: [User] }
  union Result = Product | User
  enum Status { OK BROKEN }
`);

function both(query: string, input: unknown, variables?: Record<string, unknown>) {
  const operation = operationFromDocument(schema, parse(query), { validate: true });
  const compiled = compileShaping(operation)!;
  expect(compiled).not.toBeNull();
  const ours = shapeResponse(compiled, variables, input);
  const theirs = apollo.computeResponse({ operation, variables, input, introspectionHandling: () => null });
  const plain = (r: { data: unknown; errors: Array<{ message: string; path?: unknown }> }) => ({
    data: JSON.parse(JSON.stringify(r.data ?? null)) as unknown,
    errors: r.errors.map((e) => ({ message: e.message, path: e.path })),
  });
  expect(plain(ours)).toEqual(plain(theirs));
  // Field order too: the bytes a client receives.
  expect(JSON.stringify(ours.data)).toBe(JSON.stringify(theirs.data));
  return plain(ours);
}

describe('compiled result shaping answers as Apollo’s computeResponse', () => {
  it('shapes nested lists, aliases and fragments in selection order', () => {
    const query = `query Q { a: products { id ...P reviews { body author { name } } } top { name } }
      fragment P on Product { name price tags }`;
    const input = {
      a: [
        { __typename: 'Product', id: '1', name: 'Lamp', price: 2.5, tags: ['x'], reviews: [{ body: 'ok', author: { name: 'Ada', extra: 1 } }], unrequested: true },
        { __typename: 'Product', id: '2', name: 'Desk', price: null, tags: null, reviews: [] },
      ],
      top: null,
    };
    expect(both(query, input).errors).toEqual([]);
  });

  it('bubbles a null in a non-null place up to the nearest nullable field, with one error at its path', () => {
    both('{ products { id name reviews { author { name } } } }', { products: [{ id: '1', name: null, reviews: [] }] });
    both('{ top { id reviews { body author { name } } } }', { top: { id: '1', reviews: [{ body: 'a', author: null }, { body: 'b', author: { name: 'x' } }] } });
    const bubbled = both('{ me { id } count }', { me: null, count: 3 });
    expect(bubbled.data).toBeNull();
    expect(bubbled.errors).toHaveLength(1);
  });

  it('reports invalid leaf values and unknown __typename as Apollo does', () => {
    both('{ count status top { price } }', { count: 1.5, status: 'NOPE', top: { price: 'cheap' } });
    both('{ search { ... on Product { name } ... on User { name } } }', { search: [{ __typename: 'Ghost', name: 'x' }, { __typename: 'User', name: 'u' }, null] });
  });

  it('applies type conditions on abstract types by the runtime __typename, and __typename itself', () => {
    const query = '{ search { __typename ... on Node { id } ... on Product { name } ... on User { name friends { id } } } node(id: "1") { __typename kind: __typename id } }';
    both(query, {
      search: [
        { __typename: 'Product', id: 'p', name: 'Lamp' },
        { __typename: 'User', id: 'u', name: 'Ada', friends: [null, { __typename: 'User', id: 'v' }] },
      ],
      node: { __typename: 'Review', id: 'r' },
    });
  });

  it('evaluates @skip and @include per request, defaulted variables included', () => {
    const query = 'query Q($withName: Boolean = true, $skipPrice: Boolean!) { products { id name @include(if: $withName) price @skip(if: $skipPrice) } }';
    const input = { products: [{ id: '1', name: 'Lamp', price: 1 }] };
    both(query, input, { skipPrice: true });
    both(query, input, { skipPrice: false, withName: false });
  });

  it('answers nothing for no input, as Apollo does', () => {
    both('{ count }', null);
  });

  it('leaves operations with introspection to Apollo', () => {
    expect(compileShaping(operationFromDocument(schema, parse('{ __schema { queryType { name } } }'), { validate: true }))).toBeNull();
  });
});
