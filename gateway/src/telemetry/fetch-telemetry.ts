import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { context, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import { BAGGAGE, currentScope, now, recordCall, type CallReport, type ServiceMetrics } from '@shop/observability';
import type { SubgraphFault } from '../subgraph-fetch/faults.ts';
import type { SubgraphFaultMetrics } from './subgraph-fault-metrics.ts';

const headerSetter = { set: (headers: { set(k: string, v: string): void }, key: string, value: string) => headers.set(key, value) };

/**
 * What the gateway observes of each subgraph fetch of a query plan: timed and counted per
 * subgraph, annotated on the fetch span, carrying the trace and the gateway's baggage to the
 * subgraph, and bringing the subgraph's call report back into this request's.
 */
export function fetchTelemetry(metrics: ServiceMetrics, faults: SubgraphFaultMetrics) {
  return {
    /**
     * One HTTP request to a subgraph, carrying `fetches` of the plan's fetches (more than one when
     * batched: fetch-batching/) and `size` entity representations.
     */
    async measure(subgraph: string, request: { size: number | undefined; fetches: number }, fetch: () => Promise<GatewayGraphQLResponse>): Promise<GatewayGraphQLResponse> {
      const { size, fetches } = request;
      // The active span is @apollo/gateway's own `gateway.fetch` (of the first fetch, for a batched request).
      trace.getActiveSpan()?.setAttributes({
        'graphql.subgraph.name': subgraph,
        'graphql.federation.batched_fetches': fetches,
        ...(size !== undefined ? { 'graphql.federation.entity_representations': size } : {}),
      });
      metrics.subgraphPlanFetches.inc({ subgraph }, fetches);
      const scope = currentScope();
      const startedAt = now();
      let failed = false;
      try {
        const response = await fetch();
        failed = Boolean(response.errors?.length);
        return response;
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        const durationMs = now() - startedAt;
        metrics.subgraphFetches.inc({ subgraph, outcome: failed ? 'error' : 'ok' });
        metrics.subgraphFetchDuration.observe({ subgraph }, durationMs / 1000);
        if (scope) recordCall(scope, { kind: 'fetch', name: subgraph, size, fetches, startedAt, durationMs, error: failed });
      }
    },

    /**
     * A fetch that failed and is answered as errors at its fields (the data source): counted by
     * code and reason, and its span marked as failed with the network error, which only traces
     * and logs see. `measure` still counts it as a failed fetch.
     */
    failed(fault: SubgraphFault): void {
      faults.fetchFailed(fault.subgraph, fault.code, fault.reason);
      const span = trace.getActiveSpan();
      if (!span) return;
      span.setAttributes({ 'graphql.subgraph.fault.code': fault.code, 'graphql.subgraph.fault.reason': fault.reason });
      span.recordException(fault.cause instanceof Error ? fault.cause : fault);
      span.setStatus({ code: SpanStatusCode.ERROR, message: `${fault.code} (${fault.reason})` });
    },

    /** The trace context and the baggage the subgraph labels its metrics and call report with. */
    propagate(headers: { set(key: string, value: string): void }): void {
      const scope = currentScope();
      if (!scope) return;
      const entries: Record<string, { value: string }> = {
        [BAGGAGE.operation]: { value: scope.operation },
        [BAGGAGE.client]: { value: scope.client },
      };
      if (scope.report) {
        entries[BAGGAGE.callReport] = { value: '1' };
        entries[BAGGAGE.callOffsetMs] = { value: (now() - scope.startedAt).toFixed(3) };
      }
      const withBaggage = propagation.setBaggage(context.active(), propagation.createBaggage(entries));
      propagation.inject(withBaggage, headers, headerSetter);
    },

    /** Moves the subgraph's call report (if it sent one) out of its answer into this request's. */
    collectReport(response: GatewayGraphQLResponse): void {
      const report = response.extensions?.callReport as CallReport | undefined;
      if (!report) return;
      currentScope()?.report?.push(...report.calls);
      delete response.extensions!.callReport;
    },
  };
}
export type FetchTelemetry = ReturnType<typeof fetchTelemetry>;
