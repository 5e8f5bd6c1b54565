import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { createServiceMetrics, graphqlTelemetryPlugin, tracedHandler, traceResolvers, type ServiceMetrics } from '@shop/observability';
import type { RequestHandler } from './http/graphql-handler.ts';

export interface SubgraphTelemetry<Ctx extends BaseContext> {
  metrics: ServiceMetrics;
  plugin: ApolloServerPlugin<Ctx>;
  traceResolvers: typeof traceResolvers;
  /** The GraphQL route, continuing the gateway's trace and baggage. */
  traced(handler: RequestHandler): RequestHandler;
  /** GET /metrics. */
  metricsRoute: RequestHandler;
}

/** Everything a subgraph adds to be traced and measured, in one place so subgraph.ts only plugs it in. */
export function subgraphTelemetry<Ctx extends BaseContext>(name: string, production: boolean): SubgraphTelemetry<Ctx> {
  const metrics = createServiceMetrics(name);
  return {
    metrics,
    plugin: graphqlTelemetryPlugin<Ctx>('subgraph'),
    traceResolvers,
    // Subgraphs are private: only the gateway calls them, so its baggage is trusted. Call reports never in production.
    traced: (handler) => tracedHandler(handler, { service: name, metrics, trustBaggage: true, callReports: !production }),
    metricsRoute: (req, res) => metrics.handler(req, res),
  };
}
