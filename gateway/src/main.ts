// First: tracing must be set up before the service's modules load.
import '@shop/observability/register';
import cluster from 'node:cluster';
import { createLogger } from '@shop/observability';
import { runService } from '@shop/service-kit';
import { loadGatewayConfig } from './config.ts';
import { startGateway } from './server.ts';
import { runWorkers } from './workers.ts';

const workers = cluster.isPrimary ? loadWorkerCount() : 1;
if (workers > 1) {
  runWorkers(workers, createLogger('gateway', process.env.LOG_LEVEL || 'info'));
} else {
  await runService('gateway', async () => {
    const config = loadGatewayConfig();
    const logger = createLogger('gateway', config.LOG_LEVEL);
    return { service: await startGateway(config, logger), logger };
  });
}

/** WORKERS, validated with the rest of the configuration (a bad value exits 78 like any other). */
function loadWorkerCount(): number {
  try {
    return loadGatewayConfig().WORKERS;
  } catch {
    // runService reports the configuration error and exits 78.
    return 1;
  }
}
