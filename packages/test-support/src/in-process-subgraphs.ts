import { mapSubgraphs, SUBGRAPHS, type SubgraphName } from '@shop/db';
import type { Logger } from '@shop/observability';
import { loadConfig, type DatabaseSubgraph, type SqlStats } from '@shop/service-kit';
import { accountsEnv, startAccounts } from '@shop/subgraph-accounts';
import { inventoryEnv, startInventory } from '@shop/subgraph-inventory';
import { ordersEnv, startOrders } from '@shop/subgraph-orders';
import { productsEnv, startProducts } from '@shop/subgraph-products';
import { reviewsEnv, startReviews } from '@shop/subgraph-reviews';

export interface InProcessSubgraphs {
  services: Record<SubgraphName, DatabaseSubgraph<unknown>>;
  urls: Record<SubgraphName, string>;
  /** The SQL statements each subgraph has sent so far (live counters). */
  sqlStats: Record<SubgraphName, SqlStats>;
  /** Per subgraph, the SQL statements sent and the requests (fetches) answered so far. */
  counts(): { sql: Record<SubgraphName, number>; fetches: Record<SubgraphName, number> };
  close(): Promise<void>;
}

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
  const others = await Promise.allSettled([
    startAccounts(loadConfig(accountsEnv, base('accounts')), logger),
    startInventory(loadConfig(inventoryEnv, base('inventory')), logger),
    startReviews(loadConfig(reviewsEnv, base('reviews')), logger),
    startOrders(loadConfig(ordersEnv, { ...base('orders'), PRODUCTS_SUBGRAPH_URL: products.url }), logger),
  ]);
  const failed = others.find((result) => result.status === 'rejected');
  if (failed) {
    // The ones that did start would hold their ports and pools open.
    await Promise.all([products, ...others.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))].map((s) => s.close()));
    throw failed.reason;
  }
  const [accounts, inventory, reviews, orders] = others.map((r) => (r as PromiseFulfilledResult<DatabaseSubgraph<unknown>>).value);
  const services = { accounts, products, inventory, reviews, orders } as Record<SubgraphName, DatabaseSubgraph<unknown>>;
  return {
    services,
    urls: mapSubgraphs((name) => services[name].url),
    sqlStats: mapSubgraphs((name) => services[name].db.stats),
    counts: () => ({
      sql: mapSubgraphs((name) => services[name].db.stats.statements),
      fetches: mapSubgraphs((name) => services[name].server.requests.count),
    }),
    close: async () => {
      await Promise.all(SUBGRAPHS.map((name) => services[name].close()));
    },
  };
}
