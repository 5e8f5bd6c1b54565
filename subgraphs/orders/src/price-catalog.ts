import { GraphQLError } from 'graphql';
import { tracedCall } from '@shop/observability';
import { INTERNAL_TOKEN_HEADER, type InternalSigner } from '@shop/service-kit';

/** Current prices in cents by upc; a upc missing from the map is not a product. */
export type PriceCatalog = (upcs: readonly string[]) => Promise<Map<string, number>>;

const ENTITIES_QUERY =
  'query OrderPrices($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { upc price } } }';

/**
 * Prices belong to the products subgraph, so an order snapshots them from there at the
 * moment it is placed: one batched _entities call per order, however many lines it has.
 */
export function remotePriceCatalog(productsUrl: string, signer: InternalSigner, timeoutMs = 5_000): PriceCatalog {
  const { pathname, search } = new URL(productsUrl);
  const target = `${pathname}${search}`;
  return async (upcs) => {
    const requestBody = JSON.stringify({
      query: ENTITIES_QUERY,
      variables: { representations: upcs.map((upc) => ({ __typename: 'Product', upc })) },
    });
    let body: { data?: { _entities?: Array<{ upc: string; price: number } | null> }; errors?: unknown[] };
    try {
      const token = await signer.sign({ audience: 'products', method: 'POST', target, body: requestBody });
      const response = await tracedCall('products', (traceHeaders) =>
        fetch(productsUrl, {
          method: 'POST',
          // Orders calls products as itself, with its own key: no user's claims travel with a price lookup.
          headers: {
            'content-type': 'application/json',
            ...traceHeaders,
            [INTERNAL_TOKEN_HEADER]: token,
          },
          body: requestBody,
          signal: AbortSignal.timeout(timeoutMs),
        }),
      );
      if (!response.ok) throw new Error(`products answered HTTP ${response.status}`);
      body = (await response.json()) as typeof body;
    } catch (error) {
      throw unavailable(error);
    }
    if (body.errors?.length || !body.data?._entities) throw unavailable(body.errors);
    const prices = new Map<string, number>();
    for (const product of body.data._entities) if (product) prices.set(product.upc, product.price);
    return prices;
  };
}

function unavailable(cause: unknown): GraphQLError {
  return new GraphQLError('Product prices are unavailable right now; nothing was ordered. Retry with the same idempotencyKey.', {
    extensions: { code: 'PRODUCTS_UNAVAILABLE' },
    originalError: cause instanceof Error ? cause : undefined,
  });
}
