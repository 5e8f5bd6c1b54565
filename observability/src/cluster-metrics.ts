import type { IncomingMessage, ServerResponse } from 'node:http';
import { AggregatorRegistry, type Registry } from 'prom-client';

/**
 * In a node:cluster worker: answers the primary's requests for metrics with this registry's.
 * Workers serve no metrics port of their own: node:cluster would share it between them round
 * robin, and each scrape would see one random worker.
 */
export function shareMetricsWithPrimary(registry: Registry): void {
  // Constructing one installs prom-client's answer to the primary (its only public way to).
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
}

/**
 * In the node:cluster primary: GET /metrics answered with every worker's metrics, combined by
 * prom-client (counters and histograms summed): one target per host, as Prometheus users expect.
 */
export function clusterMetricsHandler(): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const aggregator = new AggregatorRegistry();
  return async (_req, res) => {
    try {
      const body = await aggregator.clusterMetrics();
      res.statusCode = 200;
      res.setHeader('content-type', aggregator.contentType);
      res.end(body);
    } catch (error) {
      // A worker that does not answer within prom-client's 5 s: a failed scrape, which `up` shows.
      res.statusCode = 503;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end(`metrics unavailable: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  };
}
