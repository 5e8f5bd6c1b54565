import type { HTTPGraphQLResponse } from '@apollo/server';
import type { OperationKinds } from './operation-kinds.ts';
import type { HttpMiddleware } from './pipeline.ts';
import { operationRef } from './request-key.ts';

/**
 * Identical queries in flight at the same time execute once and every caller gets the same
 * serialized answer. "Identical" covers the document, operation name, variables, extensions and
 * every header that can change the answer, the Authorization header included, so callers with
 * different credentials never share. Mutations (and documents not yet known to be queries) are
 * never shared: each must run.
 */
export function inboundDedup(kinds: OperationKinds): HttpMiddleware & { inFlight(): number } {
  const inFlight = new Map<string, Promise<HTTPGraphQLResponse>>();
  const middleware: HttpMiddleware = async (execution, next) => {
    const ref = operationRef(execution.httpGraphQLRequest);
    if (ref === null || !kinds.isQuery(ref.docKey)) return next(execution);
    const key = `${execution.httpGraphQLRequest.headers.get('authorization') ?? ''}\n${ref.key}`;
    const leader = inFlight.get(key);
    if (leader) {
      const response = await leader;
      // A streamed (incremental delivery) body can be read once only: run this one itself.
      if (response.body.kind !== 'complete') return next(execution);
      return { status: response.status, headers: response.headers, body: response.body };
    }
    const pending = next(execution).finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
    return pending;
  };
  return Object.assign(middleware, { inFlight: () => inFlight.size });
}
