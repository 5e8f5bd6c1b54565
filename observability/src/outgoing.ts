import { context, propagation, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { tracer } from './http-tracing.ts';
import { currentScope, now, recordCall } from './request-scope.ts';

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
    let failed = false;
    try {
      return await send(headers);
    } catch (error) {
      failed = true;
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
      if (scope) recordCall(scope, { kind: 'fetch', name: target, startedAt, durationMs: now() - startedAt, error: failed });
    }
  });
}
