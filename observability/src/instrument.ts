import { tracer } from './http-tracing.ts';
import { currentScope, now, recordCall, recordedSpan } from './request-scope.ts';

/**
 * Runs one DataLoader batch in a span (loader name, batch size), counts its size per
 * operation, and lists it in the call report. SQL the batch sends becomes its children.
 */
export function traceBatch<T>(loader: string, size: number, fn: () => Promise<T>): Promise<T> {
  const scope = currentScope();
  const startedAt = now();
  scope?.metrics.batchSize.observe({ loader, operation: scope.operation }, size);
  return tracer.startActiveSpan(
    `dataloader.batch ${loader}`,
    { attributes: { 'dataloader.name': loader, 'dataloader.batch_size': size } },
    (span) => recordedSpan(span, scope, { kind: 'batch', name: loader, size }, startedAt, fn),
  );
}

/**
 * Counts one SQL statement for the current request and lists it in the call report; returns
 * the function to call when it completes (null when no call report is collected), or undefined
 * when no request is being served. The statement's span is Prisma's (db_query).
 */
export function sqlStatementStarted(text: string): ((failed: boolean) => void) | null | undefined {
  const scope = currentScope();
  // Outside any request (a service's background work): undefined, so that the caller can tell.
  if (!scope) return undefined;
  scope.sqlStatements += 1;
  if (!scope.report) return null;
  const startedAt = now();
  return (failed) =>
    recordCall(scope, {
      kind: 'sql',
      name: text.replace(/\s+/g, ' ').trim().slice(0, 240),
      startedAt,
      durationMs: now() - startedAt,
      error: failed,
    });
}
