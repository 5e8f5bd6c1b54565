import { GraphQLError } from 'graphql';
import type { InternalClient } from './internal-client.ts';

/** Current prices in cents by upc; a upc missing from the map is not a product. */
export type PriceCatalog = (upcs: readonly string[]) => Promise<Map<string, number>>;

const ENTITIES_QUERY =
  'query OrderPrices($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { upc price } } }';

/**
 * Prices belong to the products subgraph, so an order snapshots them from there at the
 * moment it is placed: one batched _entities call per order, however many lines it has.
 */
export function remotePriceCatalog(products: InternalClient): PriceCatalog {
  return async (upcs) => {
    let entities: Array<{ upc: string; price: number } | null>;
    try {
      ({ _entities: entities } = await products<{ _entities: Array<{ upc: string; price: number } | null> }>(ENTITIES_QUERY, {
        representations: upcs.map((upc) => ({ __typename: 'Product', upc })),
      }));
    } catch (error) {
      throw unavailable(error);
    }
    const prices = new Map<string, number>();
    for (const product of entities) if (product) prices.set(product.upc, product.price);
    return prices;
  };
}

function unavailable(cause: unknown): GraphQLError {
  return new GraphQLError('Product prices are unavailable right now; nothing was ordered. Retry with the same idempotencyKey.', {
    extensions: { code: 'PRODUCTS_UNAVAILABLE' },
    originalError: cause instanceof Error ? cause : undefined,
  });
}
