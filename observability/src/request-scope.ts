import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import type { ServiceMetrics } from './metrics.ts';

/** One internal call an operation made, as the call report lists it. */
export interface CallEvent {
  kind: 'fetch' | 'batch' | 'sql';
  /** The service that made the call. */
  service: string;
  /** Subgraph name, loader name, or the SQL statement. */
  name: string;
  /** Entity representations of a fetch, keys of a batch. */
  size?: number;
  /** Of a subgraph fetch: how many of the query plan's fetches it carried (more than one when batched). */
  fetches?: number;
  /** Milliseconds since the start of the request at the gateway. */
  startMs: number;
  durationMs: number;
  error?: boolean;
}

/**
 * What a service knows about the request it is serving, for the code deep below the resolvers
 * (a DataLoader batch, a SQL statement) that must attribute its work to an operation.
 */
export interface RequestScope {
  service: string;
  metrics: ServiceMetrics;
  /** Bounded operation label (client operation name, or "other"). */
  operation: string;
  client: string;
  startedAt: number;
  /** Offset of this service's clock origin in the gateway request's timeline (0 at the gateway). */
  offsetMs: number;
  sqlStatements: number;
  /** Set once the GraphQL layer has counted the request; requests refused before it are counted by HTTP status. */
  counted: boolean;
  /** Only when a call report was asked for: the calls made, in order. */
  report: CallEvent[] | null;
}

const storage = new AsyncLocalStorage<RequestScope>();

export function runInScope<T>(scope: RequestScope, fn: () => T): T {
  return storage.run(scope, fn);
}

export function currentScope(): RequestScope | undefined {
  return storage.getStore();
}

/** Adds a call to the report of the current request, when one is being collected. */
export function recordCall(scope: RequestScope, event: Omit<CallEvent, 'service' | 'startMs'> & { startedAt: number }): void {
  if (!scope.report) return;
  const { startedAt, ...rest } = event;
  scope.report.push({
    ...rest,
    service: scope.service,
    startMs: round(scope.offsetMs + startedAt - scope.startedAt),
    durationMs: round(rest.durationMs),
  });
}

export const now = () => performance.now();
const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * Runs `fn` inside `span`: an error is recorded on the span and rethrown, the span is ended,
 * and the call lands in the request's call report either way.
 */
export async function recordedSpan<T>(
  span: Span,
  scope: RequestScope | undefined,
  call: Omit<CallEvent, 'service' | 'startMs' | 'durationMs' | 'error'>,
  startedAt: number,
  fn: () => Promise<T>,
): Promise<T> {
  let failed = false;
  try {
    return await fn();
  } catch (error) {
    failed = true;
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
    if (scope) recordCall(scope, { ...call, startedAt, durationMs: now() - startedAt, error: failed });
  }
}
