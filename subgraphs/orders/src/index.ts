import { createInternalSigner, defineSubgraph, env, keyIdSchema, signingKeySchema, type SubgraphContext } from '@shop/service-kit';
import { PrismaClient } from './generated/prisma/client.ts';
import { internalClient } from './internal-client.ts';
import { createLoaders, type Loaders } from './loaders.ts';
import { remotePriceCatalog, type PriceCatalog } from './price-catalog.ts';
import { resolvers } from './resolvers.ts';
import { remoteInventoryStock } from './stock/inventory-stock.ts';
import { startRelayWorker } from './stock/relay-worker.ts';
import { StockRelay } from './stock/stock-relay.ts';

/** What orders adds to every subgraph's context: where current prices come from, and how stock is reserved. */
interface OrdersParts {
  prices: PriceCatalog;
  relay: StockRelay;
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
    /** The inventory subgraph, which owns stock; orders reserve and release it there. */
    INVENTORY_SUBGRAPH_URL: env.httpUrl().default('http://127.0.0.1:4003/graphql'),
    /** Orders' own private key (Ed25519 JWK or PKCS8 PEM) for its calls to products and inventory, which trust its public key as issuer "orders". */
    INTERNAL_SIGNING_KEY: signingKeySchema,
    INTERNAL_SIGNING_KEY_ID: keyIdSchema,
    /** Longest wait for products or inventory to answer one call. */
    INTERNAL_CALL_TIMEOUT_MS: env.positiveInt(5_000, 60_000),
    /** Time between sweeps of the stock outbox (commands no request finished relaying). */
    STOCK_RELAY_INTERVAL_MS: env.positiveInt(1_000, 60_000),
    /** Age below which the sweep leaves a command to the request that wrote it. */
    STOCK_RELAY_GRACE_MS: env.positiveInt(2_000, 60_000),
  },
  context: (config, logger): OrdersParts => {
    const signer = createInternalSigner({ issuer: 'orders', privateKey: config.INTERNAL_SIGNING_KEY, keyId: config.INTERNAL_SIGNING_KEY_ID });
    return {
      prices: remotePriceCatalog(internalClient('products', config.PRODUCTS_SUBGRAPH_URL, signer, config.INTERNAL_CALL_TIMEOUT_MS)),
      relay: new StockRelay(remoteInventoryStock(internalClient('inventory', config.INVENTORY_SUBGRAPH_URL, signer, config.INTERNAL_CALL_TIMEOUT_MS)), logger),
    };
  },
  worker: ({ config, prisma, logger, metrics, context }) =>
    startRelayWorker(prisma, context.relay, metrics, logger, {
      intervalMs: config.STOCK_RELAY_INTERVAL_MS,
      graceMs: config.STOCK_RELAY_GRACE_MS,
      batchSize: 100,
    }),
});
