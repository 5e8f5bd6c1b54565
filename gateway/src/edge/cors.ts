import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * CORS with an allow-list: browsers on the listed origins may call the API; others get no
 * CORS headers (so the browser blocks them). Preflights are answered here, without GraphQL.
 * Returns true when the request was a preflight and has been answered.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, allowed: readonly string[]): boolean {
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
  res.statusCode = 204;
  res.end();
  return true;
}
