// The gateway service, loaded by main.ts once the node flags are in place. First: tracing must be
// set up before the service's modules load.
import '@shop/observability/register';
import cluster from 'node:cluster';
import { createLogger } from '@shop/observability';
import { runService } from '@shop/service-kit';
import { loadGatewayConfig, type GatewayConfig } from './config.ts';
import { startGateway } from './server.ts';
import { runWorkers } from './workers.ts';

const primaryConfig = cluster.isPrimary ? loadPrimaryConfig() : null;
if (primaryConfig && primaryConfig.WORKERS > 1) {
  await runWorkers(primaryConfig, createLogger('gateway', primaryConfig.LOG_LEVEL));
} else {
  await runService('gateway', async () => {
    const config = loadGatewayConfig();
    const logger = createLogger('gateway', config.LOG_LEVEL);
    return {
      service: await startGateway(config, logger),
      logger,
      shutdownDelayMs: config.SHUTDOWN_DELAY_MS,
      // The drain, then Apollo, the subgraph pool and Redis (each bounded), with room to spare.
      closeTimeoutMs: config.DRAIN_TIMEOUT_MS + 10_000,
    };
  });
}

/** WORKERS and the metrics listener, validated with the rest of the configuration (a bad value exits 78 like any other). */
function loadPrimaryConfig(): GatewayConfig | null {
  try {
    return loadGatewayConfig();
  } catch {
    // runService reports the configuration error and exits 78.
    return null;
  }
}
