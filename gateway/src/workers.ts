import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '@shop/observability';
import type { GatewayConfig } from './config.ts';
import { serveClusterMetrics } from './telemetry/metrics-listener.ts';

/**
 * Serves one port from `count` gateway processes (node:cluster hands connections out round
 * robin), so one machine's cores are all used. The primary serves only the metrics listener
 * (every worker's metrics combined): it starts the workers, replaces one that dies, and on
 * SIGTERM/SIGINT lets each drain and exit.
 */
export async function runWorkers(config: Pick<GatewayConfig, 'WORKERS' | 'METRICS_HOST' | 'METRICS_PORT' | 'DRAIN_TIMEOUT_MS'>, logger: Logger): Promise<void> {
  const count = config.WORKERS;
  const metrics = await serveClusterMetrics(config, logger);
  let stopping = false;
  const fork = (): Worker => cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) void (metrics?.close() ?? Promise.resolve()).finally(() => process.exit(0));
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'gateway worker exited; starting another');
    // A worker that cannot even start (bad configuration: 78) would loop: give up instead.
    if (code === 78) process.exit(78);
    fork();
  });
  const started = Array.from({ length: count }, fork);
  logger.info({ workers: count, pids: started.map((worker) => worker.process.pid), metrics: metrics ? `${metrics.url}/metrics` : null }, 'gateway primary started its workers');

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping gateway workers');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
