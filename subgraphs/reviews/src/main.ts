// First: tracing must be set up before the service's modules load.
import '@shop/observability/register';
import { createLogger } from '@shop/observability';
import { loadConfig, runService } from '@shop/service-kit';
import { reviewsEnv, startReviews } from './index.ts';

await runService('reviews', async () => {
  const config = loadConfig(reviewsEnv);
  const logger = createLogger('reviews', config.LOG_LEVEL);
  return { service: await startReviews(config, logger), logger };
});
