import type { SubgraphName } from '@shop/db';
import type { Logger } from '@shop/observability';
import { loadConfig, type DatabaseSubgraph } from '@shop/service-kit';
import { accountsEnv, startAccounts } from '@shop/subgraph-accounts';
import { inventoryEnv, startInventory } from '@shop/subgraph-inventory';
import { ordersEnv, startOrders } from '@shop/subgraph-orders';
import { productsEnv, startProducts } from '@shop/subgraph-products';
import { reviewsEnv, startReviews } from '@shop/subgraph-reviews';

export type InProcessSubgraphs = Record<SubgraphName, DatabaseSubgraph<unknown>>;

/**
 * The five shop subgraphs in this process on ephemeral loopback ports, for the tools that
 * measure them (tests, budgets, the bench). `env` is every subgraph's environment (secret,
 * node env, ...); each gets its own database and orders gets the products URL.
 */
export async function startSubgraphsInProcess(
  databaseUrls: Record<SubgraphName, string>,
  env: Record<string, string>,
  logger: Logger,
): Promise<InProcessSubgraphs> {
  const base = (name: SubgraphName) => ({ PORT: '0', DATABASE_POOL_MAX: '5', ...env, DATABASE_URL: databaseUrls[name] });
  // Products first: orders needs its URL for prices.
  const products = await startProducts(loadConfig(productsEnv, base('products')), logger);
  const [accounts, inventory, reviews, orders] = await Promise.all([
    startAccounts(loadConfig(accountsEnv, base('accounts')), logger),
    startInventory(loadConfig(inventoryEnv, base('inventory')), logger),
    startReviews(loadConfig(reviewsEnv, base('reviews')), logger),
    startOrders(loadConfig(ordersEnv, { ...base('orders'), PRODUCTS_SUBGRAPH_URL: products.url }), logger),
  ]);
  return { accounts, products, inventory, reviews, orders } as InProcessSubgraphs;
}
