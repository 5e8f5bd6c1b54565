import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context } from '@opentelemetry/api';
import type { ServiceMetrics } from './metrics.ts';
import { installPropagation } from './propagation.ts';
import { now, runInScope, type RequestScope } from './request-scope.ts';

/** Baggage entries the gateway sets for the subgraphs it calls. */
export const BAGGAGE = {
  operation: 'shop.operation',
  client: 'shop.client',
  callReport: 'shop.call_report',
  callOffsetMs: 'shop.call_offset_ms',
} as const;

/** Header a developer sends to the gateway to get the call report of the request in `extensions`. */
export const CALL_REPORT_HEADER = 'x-call-report';

export const tracer = trace.getTracer('@shop/observability');

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface TracedHandlerOptions {
  service: string;
  metrics: ServiceMetrics;
  /**
   * The public edge (the gateway) takes the caller's trace context but not its baggage: the
   * `shop.*` entries steer subgraphs and only the gateway may set them.
   */
  trustBaggage: boolean;
  /** Whether call reports may be collected at all (never in production). */
  callReports: boolean;
}

function outcomeOfStatus(status: number): string {
  if (status === 429) return 'RATE_LIMITED';
  if (status === 503) return 'SERVER_BUSY';
  if (status >= 500) return 'INTERNAL_SERVER_ERROR';
  if (status >= 400) return 'BAD_REQUEST';
  return 'ok';
}

const headerGetter = {
  keys: (carrier: IncomingMessage['headers']) => Object.keys(carrier),
  get: (carrier: IncomingMessage['headers'], key: string) => carrier[key],
};

/**
 * Wraps a service's GraphQL route: continues the caller's trace in a SERVER span and opens the
 * request scope that resolvers, DataLoader batches and SQL statements report to.
 */
export function tracedHandler(handler: Handler, options: TracedHandlerOptions): Handler {
  // Services started without the register entry point (tests, tools) still pass trace and baggage on.
  installPropagation();
  return (req, res) => {
    let parent: Context = propagation.extract(ROOT_CONTEXT, req.headers, headerGetter);
    const bag = options.trustBaggage ? propagation.getBaggage(parent) : undefined;
    if (!options.trustBaggage) parent = propagation.deleteBaggage(parent);

    const wantsReport = options.callReports && (options.trustBaggage ? bag?.getEntry(BAGGAGE.callReport)?.value === '1' : req.headers[CALL_REPORT_HEADER] === '1');
    const clientHeader = req.headers['apollographql-client-name'];
    const scope: RequestScope = {
      service: options.service,
      metrics: options.metrics,
      operation: options.metrics.operations.value(bag?.getEntry(BAGGAGE.operation)?.value),
      client: options.metrics.clients.value(bag?.getEntry(BAGGAGE.client)?.value ?? (typeof clientHeader === 'string' ? clientHeader : undefined)),
      startedAt: now(),
      offsetMs: Number(bag?.getEntry(BAGGAGE.callOffsetMs)?.value ?? 0) || 0,
      sqlStatements: 0,
      counted: false,
      report: wantsReport ? [] : null,
    };

    const span = tracer.startSpan(
      `${req.method ?? 'GET'} /graphql`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': req.method ?? 'GET',
          'url.path': (req.url ?? '/').split('?', 1)[0],
          'shop.service': options.service,
          ...(typeof clientHeader === 'string' ? { 'graphql.client.name': clientHeader } : {}),
        },
      },
      parent,
    );
    res.once('close', () => {
      // Refused before GraphQL ran (body too large, wrong content type, a rate limit at the door):
      // still a request of this client, with an outcome from its status.
      if (!scope.counted) {
        const labels = { operation: scope.operation, client: scope.client };
        options.metrics.requests.inc({ ...labels, outcome: outcomeOfStatus(res.statusCode) });
        options.metrics.requestDuration.observe(labels, (now() - scope.startedAt) / 1000);
      }
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    return context.with(trace.setSpan(parent, span), () => runInScope(scope, () => handler(req, res)));
  };
}
