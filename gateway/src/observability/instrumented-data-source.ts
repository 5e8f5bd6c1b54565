import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLRequestContext, GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { context, propagation, trace } from '@opentelemetry/api';
import { BAGGAGE, currentScope, now, recordCall, type CallReport, type ServiceMetrics } from '@shop/observability';
import type { GatewayContext } from '../context.ts';
import { SubgraphDataSource } from '../subgraph-data-source.ts';

const headerSetter = { set: (headers: { set(k: string, v: string): void }, key: string, value: string) => headers.set(key, value) };

/**
 * The subgraph data source with telemetry: each fetch of a query plan is timed and counted per
 * subgraph, annotated on the gateway's fetch span (subgraph, entity representations), carries the
 * trace and the gateway's baggage to the subgraph, and hands the subgraph's call report back.
 */
export class InstrumentedSubgraphDataSource extends SubgraphDataSource {
  readonly name: string;
  readonly metrics: ServiceMetrics;

  constructor(config: { name: string; url: string | undefined; fetcher: SubgraphDataSource['fetcher']; metrics: ServiceMetrics }) {
    super({ url: config.url, fetcher: config.fetcher });
    this.name = config.name;
    this.metrics = config.metrics;
  }

  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    // Health checks and schema loading are not fetches of an operation.
    if (!('incomingRequestContext' in options)) return super.process(options);
    const representations = options.request.variables?.representations;
    const size = Array.isArray(representations) ? representations.length : undefined;
    // The active span is @apollo/gateway's own `gateway.fetch`.
    trace.getActiveSpan()?.setAttributes({
      'graphql.subgraph.name': this.name,
      ...(size !== undefined ? { 'graphql.federation.entity_representations': size } : {}),
    });
    const scope = currentScope();
    const startedAt = now();
    let failed = false;
    try {
      const response = await super.process(options);
      failed = Boolean(response.errors?.length);
      return response;
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      const durationMs = now() - startedAt;
      this.metrics.subgraphFetches.inc({ subgraph: this.name, outcome: failed ? 'error' : 'ok' });
      this.metrics.subgraphFetchDuration.observe({ subgraph: this.name }, durationMs / 1000);
      if (scope) recordCall(scope, { kind: 'fetch', name: this.name, size, startedAt, durationMs, error: failed });
    }
  }

  override willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    super.willSendRequest(options);
    const headers = options.request.http?.headers;
    const scope = currentScope();
    if (!headers || !scope) return;
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
  }

  override didReceiveResponse({
    response,
  }: Required<Pick<GatewayGraphQLRequestContext<GatewayContext>, 'request' | 'response' | 'context'>>): GatewayGraphQLResponse {
    const report = response.extensions?.callReport as CallReport | undefined;
    if (report) {
      currentScope()?.report?.push(...report.calls);
      delete response.extensions!.callReport;
    }
    return response;
  }
}
