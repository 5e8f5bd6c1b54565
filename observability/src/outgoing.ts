import { context, propagation, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { CallReport } from './graphql-plugin.ts';
import { BAGGAGE, tracer } from './http-tracing.ts';
import { currentScope, now, recordedSpan } from './request-scope.ts';

/**
 * A call from one service to another outside the gateway's query plan (orders asking products
 * for prices): a CLIENT span, the trace and baggage passed on in the headers given to `send`, and
 * an entry in the call report, so the hop is part of the same trace as everything else.
 */
export function tracedCall<T>(target: string, send: (headers: Record<string, string>) => Promise<T>): Promise<T> {
  const scope = currentScope();
  const startedAt = now();
  return tracer.startActiveSpan(`fetch ${target}`, { kind: SpanKind.CLIENT, attributes: { 'graphql.subgraph.name': target } }, async (span) => {
    const headers: Record<string, string> = {};
    let active = context.active();
    if (scope?.report) {
      // The called service reports its own calls (SQL, batches) too, placed on this request's timeline.
      const baggage = propagation.getBaggage(active) ?? propagation.createBaggage();
      const offsetMs = (scope.offsetMs + now() - scope.startedAt).toFixed(3);
      active = propagation.setBaggage(active, baggage.setEntry(BAGGAGE.callReport, { value: '1' }).setEntry(BAGGAGE.callOffsetMs, { value: offsetMs }));
    }
    propagation.inject(active, headers);
    return recordedSpan(span, scope, { kind: 'fetch', name: target }, startedAt, () => send(headers));
  });
}

/** Moves the call report a service called with tracedCall sent back (its answer's extensions) into this request's. */
export function adoptCallReport(extensions: Record<string, unknown> | undefined): void {
  const report = extensions?.callReport as CallReport | undefined;
  if (report?.calls) currentScope()?.report?.push(...report.calls);
}

/**
 * Runs a service's own background work (not a request) as the root span of a trace of its own,
 * e.g. one relay of an order's stock command, so its calls and SQL are one trace in Jaeger.
 */
export function tracedBackground<T>(name: string, attributes: Record<string, string | number>, work: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { root: true, attributes }, async (span) => {
    try {
      return await work();
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Runs polling that finds nothing most of the time (an idle sweep's queries) without traces: a trace a second of nothing would bury the real ones. */
export function untraced<T>(work: () => PromiseLike<T>): Promise<T> {
  // Awaited inside: a lazy promise (Prisma's) starts its query only when awaited, which must happen in this context.
  return context.with(suppressTracing(context.active()), async () => await work());
}
