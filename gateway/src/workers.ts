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
  /** Whether every worker stopped cleanly: the primary's exit code says so to whoever stopped it. */
  let workersFailed = 0;
  const fork = (): Worker => cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (code !== 0) workersFailed += 1;
      logger.info({ pid: worker.process.pid, code, signal }, 'gateway worker exited');
      if (Object.keys(cluster.workers ?? {}).length > 0) return;
      // Scraped until the last worker is gone; its close waits for a scrape in flight.
      void (metrics?.close() ?? Promise.resolve()).finally(() => {
        logger.info({ workersFailed }, 'gateway workers stopped; exiting');
        process.exit(workersFailed > 0 ? 1 : 0);
      });
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'gateway worker exited; starting another');
    // A worker that cannot even start (bad configuration: 78) would loop: give up instead.
    if (code === 78) process.exit(78);
    fork();
  });
  const started = Array.from({ length: count }, fork);
  logger.info({ workers: count, pids: started.map((worker) => worker.process.pid), metrics: metrics ? `${metrics.url}/metrics` : null }, 'gateway primary started its workers');

  // Each worker runs the whole shutdown itself (readiness 503, SHUTDOWN_DELAY_MS, drain, close):
  // the cluster's shared listener stops accepting once the last worker has closed its own. A
  // Ctrl-C reaches the workers directly too (same process group); they act on the first signal.
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping gateway workers');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  // `on`, not `once`: a second signal (Ctrl-C, then the launcher's SIGTERM) must not kill the primary mid-drain.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
