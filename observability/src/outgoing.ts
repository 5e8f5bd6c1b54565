import { context, propagation, SpanKind } from '@opentelemetry/api';
import { tracer } from './http-tracing.ts';
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
    propagation.inject(context.active(), headers);
    return recordedSpan(span, scope, { kind: 'fetch', name: target }, startedAt, () => send(headers));
  });
}
