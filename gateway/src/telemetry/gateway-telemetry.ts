import type { Experimental_DidResolveQueryPlanCallback } from '@apollo/gateway';
import { prettyFormatQueryPlan, type QueryPlan } from '@apollo/query-planner';
import { trace } from '@opentelemetry/api';
import { Counter } from 'prom-client';
import {
  createServiceMetrics,
  currentScope,
  graphqlTelemetryPlugin,
  queryPlans,
  queryPlanWaves,
  tracedHandler,
  type ServiceMetrics,
} from '@shop/observability';
import type { RequestHandler } from '@shop/service-kit';
import type { GatewayContext } from '../context.ts';
import { waveSummaryOf } from '../fetch-batching/wave-schedule.ts';
import { fetchTelemetry } from './fetch-telemetry.ts';
import { subgraphFaultMetrics } from './subgraph-fault-metrics.ts';

/** Everything the gateway adds to be traced and measured; pipeline.ts plugs each part in where it belongs. */
export function gatewayTelemetry(options: { production: boolean }) {
  // @apollo/gateway otherwise sends its own usage metrics to Apollo's servers (and probes the GCP
  // metadata service to describe the host) from every gateway. Telemetry here goes where this
  // service's own configuration says; an explicit APOLLO_TELEMETRY_DISABLED=false still wins.
  process.env.APOLLO_TELEMETRY_DISABLED ??= 'true';
  const metrics: ServiceMetrics = createServiceMetrics('gateway');
  const faults = subgraphFaultMetrics(metrics.registry);
  // The plan store returns the same object for a cached plan: a plan seen before is a cache hit.
  // Weak, so evicted plans are not kept alive by this bookkeeping.
  const seenPlans = new WeakSet<QueryPlan>();

  const didResolveQueryPlan: Experimental_DidResolveQueryPlanCallback = ({ queryPlan }) => {
    const result = seenPlans.has(queryPlan) ? 'hit' : 'miss';
    seenPlans.add(queryPlan);
    metrics.cacheLookups.inc({ cache: 'query_plan', result });
    // The active span is @apollo/gateway's `gateway.request`; a miss also has a `gateway.plan` child.
    trace.getActiveSpan()?.setAttribute('graphql.query_plan.cache', result);
    const scope = currentScope();
    if (!scope?.report) return;
    queryPlans.set(scope, prettyFormatQueryPlan(queryPlan));
    const waves = waveSummaryOf(queryPlan)?.waves;
    if (waves) queryPlanWaves.set(scope, waves);
  };

  // Operation recording (recording/operation-recorder.ts): written in the background, so its failures are only seen here.
  const recording = {
    flushFailures: new Counter({
      name: 'gateway_operation_recording_flush_failures_total',
      help: 'Flushes of recorded operations (documents, clients, counts) that failed; their counts are retried at the next flush.',
      registers: [metrics.registry],
    }),
    dropped: new Counter({
      name: 'gateway_operation_recording_dropped_total',
      help: 'Operation executions not recorded because OPERATION_RECORDING_MAX_DOCUMENTS distinct documents were already waiting for a flush.',
      registers: [metrics.registry],
    }),
  };

  return {
    metrics,
    recording,
    plugin: graphqlTelemetryPlugin<GatewayContext>('gateway'),
    didResolveQueryPlan,
    fetch: fetchTelemetry(metrics, faults),
    /** Subgraph circuits, retries and failures (subgraph-fetch/resilience.ts). */
    faults,
    // Call reports only outside production, and only for requests that ask (x-call-report: 1).
    traced: (handler: RequestHandler): RequestHandler =>
      tracedHandler(handler, { service: 'gateway', metrics, trustBaggage: false, callReports: !options.production }),
    metricsRoute: ((req, res) => metrics.handler(req, res)) as RequestHandler,
  };
}
export type GatewayTelemetry = ReturnType<typeof gatewayTelemetry>;
