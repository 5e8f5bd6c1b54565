import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap } from '@apollo/server';
import type { Stage } from '../exchange.ts';

/**
 * CORS with an allow-list: browsers on the listed origins may call the API; others get no
 * CORS headers (so the browser blocks them). Preflights are answered here, without GraphQL.
 */
export function cors(allowed: readonly string[]): Stage {
  return async (exchange, next) => {
    if (!applyCors(exchange.req, exchange.res, allowed)) return next();
    return { status: 204, headers: new HeaderMap(), body: { kind: 'complete', string: '' } };
  };
}

/** Marks an allowed origin's request; true when it is a preflight (to be answered 204 without GraphQL). */
function applyCors(req: IncomingMessage, res: ServerResponse, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  const allowAll = allowed.includes('*');
  const permitted = origin !== undefined && (allowAll || allowed.includes(origin));
  if (permitted) {
    res.setHeader('access-control-allow-origin', allowAll ? '*' : origin);
    if (!allowAll) res.setHeader('vary', 'origin');
  }
  if (req.method !== 'OPTIONS') return false;
  if (permitted) {
    res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    res.setHeader(
      'access-control-allow-headers',
      'content-type, authorization, x-api-key, apollographql-client-name, apollographql-client-version, apollo-require-preflight, traceparent',
    );
    res.setHeader('access-control-max-age', '600');
  }
  return true;
}
