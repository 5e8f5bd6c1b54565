// First: tracing must be set up before the service's modules load.
import '@shop/observability/register';
import { createLogger } from '@shop/observability';
import { loadConfig, runService } from '@shop/service-kit';
import { productsEnv, startProducts } from './index.ts';

await runService('products', async () => {
  const config = loadConfig(productsEnv);
  const logger = createLogger('products', config.LOG_LEVEL);
  return { service: await startProducts(config, logger), logger };
});
