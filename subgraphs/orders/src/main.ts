// First: tracing must be set up before the service's modules load.
import '@shop/observability/register';
import { createLogger } from '@shop/observability';
import { loadConfig, runService } from '@shop/service-kit';
import { ordersEnv, startOrders } from './index.ts';

await runService('orders', async () => {
  const config = loadConfig(ordersEnv);
  const logger = createLogger('orders', config.LOG_LEVEL);
  return { service: await startOrders(config, logger), logger };
});
