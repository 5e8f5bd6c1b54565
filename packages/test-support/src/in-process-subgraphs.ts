import { mapSubgraphs, SUBGRAPHS, type SubgraphName } from '@shop/db';
import type { Logger } from '@shop/observability';
import { loadConfig, type DatabaseSubgraph, type SqlStats } from '@shop/service-kit';
import { accounts } from '@shop/subgraph-accounts';
import { inventory } from '@shop/subgraph-inventory';
import { orders } from '@shop/subgraph-orders';
import { products } from '@shop/subgraph-products';
import { reviews } from '@shop/subgraph-reviews';

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
 * measure them (tests, budgets, the bench). `env` is every subgraph's environment (node env,
 * ...), `envOf` a subgraph's own (its trusted keys); each gets its own database and orders gets
 * the products URL.
 */
export async function startSubgraphsInProcess(
  databaseUrls: Record<SubgraphName, string>,
  env: Record<string, string>,
  logger: Logger,
  envOf: (name: SubgraphName) => Record<string, string> = () => ({}),
): Promise<InProcessSubgraphs> {
  const base = (name: SubgraphName) => ({ PORT: '0', DATABASE_POOL_MAX: '5', ...env, ...envOf(name), DATABASE_URL: databaseUrls[name] });
  // Products and inventory first: orders calls them for prices and stock.
  const first = await Promise.allSettled([
    products.start(loadConfig(products.env, base('products')), logger),
    inventory.start(loadConfig(inventory.env, base('inventory')), logger),
  ]);
  const [productsStarted, inventoryStarted] = first;
  const others =
    productsStarted.status === 'fulfilled' && inventoryStarted.status === 'fulfilled'
      ? await Promise.allSettled([
          accounts.start(loadConfig(accounts.env, base('accounts')), logger),
          reviews.start(loadConfig(reviews.env, base('reviews')), logger),
          orders.start(
            loadConfig(orders.env, { ...base('orders'), PRODUCTS_SUBGRAPH_URL: productsStarted.value.url, INVENTORY_SUBGRAPH_URL: inventoryStarted.value.url }),
            logger,
          ),
        ])
      : [];
  const failed = [...first, ...others].find((result) => result.status === 'rejected');
  if (failed) {
    // The ones that did start would hold their ports and pools open.
    await Promise.all([...first, ...others].flatMap((r) => (r.status === 'fulfilled' ? [r.value.close()] : [])));
    throw failed.reason;
  }
  const [productsService, inventoryService, accountsService, reviewsService, ordersService] = [...first, ...others].map(
    (r) => (r as PromiseFulfilledResult<DatabaseSubgraph<unknown>>).value,
  );
  const services = {
    accounts: accountsService,
    products: productsService,
    inventory: inventoryService,
    reviews: reviewsService,
    orders: ordersService,
  } as Record<SubgraphName, DatabaseSubgraph<unknown>>;
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
