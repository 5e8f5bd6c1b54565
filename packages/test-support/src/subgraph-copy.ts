import { inject } from 'vitest';
import type { SubgraphName } from '@shop/db';
import { createLogger } from '@shop/observability';
import { loadConfig, type DatabaseSubgraph, type StackTrust } from '@shop/service-kit';
import { accounts } from '@shop/subgraph-accounts';
import { inventory } from '@shop/subgraph-inventory';
import { orders } from '@shop/subgraph-orders';
import { products } from '@shop/subgraph-products';
import { reviews } from '@shop/subgraph-reviews';
// The databases global-setup provides to every test file (its `ProvidedContext` declaration).
import type {} from './global-setup.ts';

const MODULES = { accounts, products, inventory, reviews, orders } as const;

/**
 * Another instance of a subgraph of a test stack, on the stack's database and keys, on `port`
 * (0: any). What a fault test stops (`close()`: the port refuses connections) and starts again
 * on the same port, with a gateway pointed at it through SUBGRAPH_URL_<NAME>.
 */
export async function startSubgraphCopy(
  stack: { trust: StackTrust; subgraphUrls: Record<SubgraphName, string> },
  name: SubgraphName,
  port = 0,
): Promise<DatabaseSubgraph<unknown>> {
  const env: Record<string, string> = {
    PORT: String(port),
    DATABASE_POOL_MAX: '5',
    NODE_ENV: 'test',
    ...stack.trust.subgraphEnv(name),
    DATABASE_URL: inject('databaseUrls')[name],
    ...(name === 'orders' ? { PRODUCTS_SUBGRAPH_URL: stack.subgraphUrls.products, INVENTORY_SUBGRAPH_URL: stack.subgraphUrls.inventory } : {}),
  };
  const subgraph = MODULES[name] as (typeof MODULES)['accounts'];
  const logger = createLogger(`${name}-copy`, process.env.TEST_LOG_LEVEL ?? 'silent');
  return (await subgraph.start(loadConfig(subgraph.env, env) as never, logger)) as DatabaseSubgraph<unknown>;
}
