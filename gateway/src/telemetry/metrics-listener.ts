import cluster from 'node:cluster';
import { clusterMetricsHandler, shareMetricsWithPrimary, type Logger } from '@shop/observability';
import { startServiceServer, type RequestHandler, type ServiceServer } from '@shop/service-kit';
import type { GatewayConfig } from '../config.ts';
import type { GatewayTelemetry } from './gateway-telemetry.ts';

/**
 * /metrics on its own listener (METRICS_HOST:METRICS_PORT, loopback:9464 by default), never on
 * the public port: its labels name operations and clients and its gauges describe pools and
 * queues, which are for the operator's Prometheus, not for callers. As Apollo Router does.
 *
 * In a node:cluster worker (WORKERS>1) the primary serves the port with every worker's metrics
 * combined (`serveClusterMetrics`); the worker only hands its registry over. Null when off.
 */
export async function serveMetrics(config: GatewayConfig, telemetry: GatewayTelemetry, logger: Logger): Promise<ServiceServer | null> {
  if (config.METRICS_PORT === null) return null;
  if (cluster.isWorker) {
    shareMetricsWithPrimary(telemetry.metrics.registry);
    return null;
  }
  return metricsServer(config, telemetry.metricsRoute, logger);
}

/** The node:cluster primary's metrics listener: the sum of its workers' metrics (prom-client's aggregation). */
export async function serveClusterMetrics(config: Pick<GatewayConfig, 'METRICS_HOST' | 'METRICS_PORT' | 'DRAIN_TIMEOUT_MS'>, logger: Logger): Promise<ServiceServer | null> {
  if (config.METRICS_PORT === null) return null;
  return metricsServer(config, clusterMetricsHandler(), logger);
}

function metricsServer(config: Pick<GatewayConfig, 'METRICS_HOST' | 'METRICS_PORT' | 'DRAIN_TIMEOUT_MS'>, handler: RequestHandler, logger: Logger): Promise<ServiceServer> {
  // The service shell: /metrics, and /health and /ready beside it (a sidecar may probe here too).
  return startServiceServer({ host: config.METRICS_HOST, port: config.METRICS_PORT!, logger, name: 'metrics', routes: { '/metrics': handler }, drainTimeoutMs: config.DRAIN_TIMEOUT_MS });
}
