import type { HTTPGraphQLResponse } from '@apollo/server';
import { established, type Stage } from '../exchange.ts';
import type { OperationKinds } from './operation-kinds.ts';
import { collectsCallReport, operationRef } from './request-key.ts';

/**
 * Identical queries in flight at the same time execute once and every caller gets the same
 * serialized answer. "Identical" covers the document, operation name, variables, extensions and
 * every header that can change the answer, the Authorization header included, so callers with
 * different credentials never share. Mutations (and documents not yet known to be queries) are
 * never shared: each must run. Nor are requests collecting a call report: it is theirs alone.
 */
export function inboundDedup(kinds: OperationKinds): Stage & { inFlight(): number } {
  const inFlight = new Map<string, Promise<HTTPGraphQLResponse>>();
  const stage: Stage = async (exchange, next) => {
    const request = established(exchange, 'request');
    const ref = operationRef(request);
    if (ref === null || !kinds.isQuery(ref.docKey) || collectsCallReport()) return next();
    const key = `${request.headers.get('authorization') ?? ''}\n${ref.key}`;
    const leader = inFlight.get(key);
    if (leader) {
      const response = await leader;
      // A streamed (incremental delivery) body can be read once only: run this one itself.
      if (response.body.kind !== 'complete') return next();
      return { status: response.status, headers: response.headers, body: response.body };
    }
    const pending = next().finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
    return pending;
  };
  return Object.assign(stage, { inFlight: () => inFlight.size });
}
