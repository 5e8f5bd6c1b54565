// First: tracing must be set up before the service's modules load.
import '@shop/observability/register';
import { createLogger } from '@shop/observability';
import { loadConfig, runService } from '@shop/service-kit';
import { inventoryEnv, startInventory } from './index.ts';

await runService('inventory', async () => {
  const config = loadConfig(inventoryEnv);
  const logger = createLogger('inventory', config.LOG_LEVEL);
  return { service: await startInventory(config, logger), logger };
});
