import { context, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';

let installedPropagation = false;

/**
 * Context propagation is installed always, even with tracing off: it costs nothing per
 * request and carries the client's trace and the gateway's baggage through every hop.
 */
export function installPropagation(): void {
  if (installedPropagation) return;
  installedPropagation = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(w3cPropagator());
}

/** W3C trace context and baggage: what Jaeger, the OTel Collector and browsers speak. */
export function w3cPropagator(): CompositePropagator {
  return new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] });
}

/** The Node SDK registers the same context manager and propagators itself; they must not be registered twice. */
export function propagationInstalledBySdk(): void {
  installedPropagation = true;
}

