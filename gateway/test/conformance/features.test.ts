import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { featureShop } from './features.ts';
import { startConformanceSupergraph, type ConformanceSupergraph } from './harness.ts';

/** The common federation features answered through the real gateway over HTTP, each with its expected answer. */
let shop: ConformanceSupergraph;
beforeAll(async () => {
  shop = await startConformanceSupergraph(featureShop);
});
afterAll(async () => {
  await shop?.close();
});

describe('federation conformance: common features', () => {
  it('joins entities across three subgraphs (reviews → accounts, products), a null reference staying null', async () => {
    const answer = await shop.query('{ reviews { body author { id email } product { upc name price } } }');
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.reviews).toEqual([
      { body: 'Bright', author: { id: 'u1', email: 'ada@accounts' }, product: { upc: 'p1', name: 'Lamp', price: 20 } },
      { body: 'Solid', author: { id: 'u2', email: 'bob@accounts' }, product: { upc: 'p2', name: 'Desk', price: 150 } },
      { body: 'Lost', author: { id: 'u1', email: 'ada@accounts' }, product: null },
      { body: 'Orphan', author: { id: 'u9', email: null }, product: { upc: 'p1', name: 'Lamp', price: 20 } },
    ]);
  });

  it('takes a @provides field from the providing subgraph', async () => {
    const answer = await shop.query('{ reviews { author { name } } }');
    expect(answer).toEqual({ data: { reviews: [{ author: { name: 'Ada' } }, { author: { name: 'Bob' } }, { author: { name: 'Ada' } }, { author: { name: 'unknown' } }] } });
  });

  it('resolves a @requires chain: products.price → reviews.score → products.label', async () => {
    const answer = await shop.query('{ products { upc label } }');
    expect(answer).toEqual({ data: { products: [{ upc: 'p1', label: 'Lamp X-1 scores 2' }, { upc: 'p2', label: 'Desk X-2 scores 15' }] } });
  });

  it('answers an @override field from the subgraph that overrides it', async () => {
    const answer = await shop.query('{ me { email reviews { body } } }');
    expect(answer).toEqual({ data: { me: { email: 'ada@accounts', reviews: [{ body: 'Bright' }, { body: 'Lost' }] } } });
  });

  it('adds @interfaceObject fields to every implementation of an entity interface', async () => {
    const answer = await shop.query('{ media { __typename id title rating ... on Book { writer } } }');
    expect(answer).toEqual({
      data: {
        media: [
          { __typename: 'Book', id: 'b1', title: 'Dune', rating: 5, writer: 'Herbert' },
          { __typename: 'Movie', id: 'm1', title: 'Alien', rating: 3 },
        ],
      },
    });
  });

  it('resolves a union whose members live in other subgraphs', async () => {
    const answer = await shop.query('{ search { __typename ... on Review { body } ... on User { name email } } }');
    expect(answer).toEqual({ data: { search: [{ __typename: 'Review', body: 'Bright' }, { __typename: 'User', name: 'Bob', email: 'bob@accounts' }] } });
  });

  it('hides @inaccessible fields from clients while @requires may still use what they feed', async () => {
    const answer = await shop.query('{ products { internalCode } }');
    expect(answer.data).toBeUndefined();
    expect(answer.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(answer.errors?.[0]?.message).toContain('internalCode');
  });

  it('answers a @shareable field from whichever subgraph it is already in', async () => {
    const answer = await shop.query('{ reviews { product { name } } }');
    expect(answer).toEqual({ data: { reviews: [{ product: { name: 'Lamp' } }, { product: { name: 'Desk' } }, { product: null }, { product: { name: 'Lamp' } }] } });
  });
});
