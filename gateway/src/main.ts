// First: tracing must be set up before the service's modules load.
import '@shop/observability/register';
import { createLogger } from '@shop/observability';
import { runService } from '@shop/service-kit';
import { loadGatewayConfig } from './config.ts';
import { startGateway } from './server.ts';

await runService('gateway', async () => {
  const config = loadGatewayConfig();
  const logger = createLogger('gateway', config.LOG_LEVEL);
  return { service: await startGateway(config, logger), logger };
});
