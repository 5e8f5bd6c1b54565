import { createInternalSigner, defineSubgraph, env, keyIdSchema, signingKeySchema, type SubgraphContext } from '@shop/service-kit';
import { PrismaClient } from './generated/prisma/client.ts';
import { createLoaders, type Loaders } from './loaders.ts';
import { remotePriceCatalog, type PriceCatalog } from './price-catalog.ts';
import { resolvers } from './resolvers.ts';

/** What orders adds to every subgraph's context: where current prices come from. */
interface OrdersParts {
  prices: PriceCatalog;
}

/** What every resolver receives as context: codegen.ts names it for the generated resolver types. */
export type OrdersContext = SubgraphContext<PrismaClient, Loaders, OrdersParts>;

export const orders = defineSubgraph({
  name: 'orders',
  port: 4005,
  schema: new URL('../schema.graphql', import.meta.url),
  PrismaClient,
  loaders: createLoaders,
  resolvers,
  env: {
    /** The products subgraph, which owns prices; orders snapshot them when placed. */
    PRODUCTS_SUBGRAPH_URL: env.httpUrl().default('http://127.0.0.1:4002/graphql'),
    /** Orders' own private key (Ed25519 JWK or PKCS8 PEM) for its calls to products; products trusts its public key as issuer "orders". */
    INTERNAL_SIGNING_KEY: signingKeySchema,
    INTERNAL_SIGNING_KEY_ID: keyIdSchema,
  },
  context: (config): OrdersParts => ({
    prices: remotePriceCatalog(
      config.PRODUCTS_SUBGRAPH_URL,
      createInternalSigner({ issuer: 'orders', privateKey: config.INTERNAL_SIGNING_KEY, keyId: config.INTERNAL_SIGNING_KEY_ID }),
    ),
  }),
});
