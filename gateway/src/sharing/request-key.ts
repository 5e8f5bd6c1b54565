import type { HTTPGraphQLRequest } from '@apollo/server';
import { CALL_REPORT_HEADER, currentScope } from '@shop/observability';

/**
 * Request headers that can change a response: identity, content negotiation, what the gateway
 * forwards to subgraphs, and Apollo's CSRF-prevention headers. Two requests that differ in any
 * of them never share an answer.
 */
const VARYING_HEADERS = [
  'accept',
  'accept-language',
  'apollographql-client-name',
  'apollographql-client-version',
  'content-type',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  // The client (and so its trusted-document policy and rate limit) is part of who is asking.
  'x-api-key',
  // Outside production it adds the request's call report (plan, SQL) to the answer.
  CALL_REPORT_HEADER,
] as const;

/**
 * Whether this request collects a call report. Its answer describes its own execution, query
 * plan and SQL included: it is neither shared with other requests nor cached.
 */
export function collectsCallReport(): boolean {
  return (currentScope()?.report ?? null) !== null;
}

export interface OperationRef {
  /** The document's identity: its persisted-query hash when sent, else its text. */
  document: string;
  operationName: string | null;
  /** Everything that selects the answer except identity, as one string. */
  key: string;
}

interface GraphQLParams {
  query?: unknown;
  operationName?: unknown;
  variables?: unknown;
  extensions?: unknown;
}

function persistedHash(extensions: unknown): string | undefined {
  if (typeof extensions !== 'object' || extensions === null) return undefined;
  const persisted = (extensions as { persistedQuery?: { sha256Hash?: unknown } }).persistedQuery;
  return typeof persisted?.sha256Hash === 'string' ? persisted.sha256Hash : undefined;
}

/** The document key operation kinds are learned under (see OperationKinds). */
export function documentKey(query: unknown, extensions: unknown, operationName: unknown): string | null {
  const hash = persistedHash(extensions);
  const document = hash !== undefined ? `sha256:${hash}` : typeof query === 'string' ? query : undefined;
  if (document === undefined) return null;
  return `${typeof operationName === 'string' ? operationName : ''}\n${document}`;
}

/**
 * What identifies a single GraphQL operation request (POST JSON body or GET parameters),
 * or null when it is not one (batches, malformed bodies): those are never shared.
 */
export function operationRef(request: HTTPGraphQLRequest): (OperationRef & { docKey: string }) | null {
  let params: GraphQLParams;
  if (request.method === 'POST') {
    if (typeof request.body !== 'object' || request.body === null || Array.isArray(request.body)) return null;
    params = request.body as GraphQLParams;
  } else if (request.method === 'GET') {
    const search = new URLSearchParams(request.search);
    params = {
      query: search.get('query') ?? undefined,
      operationName: search.get('operationName') ?? undefined,
      variables: search.get('variables') ?? undefined,
      extensions: search.get('extensions') ?? undefined,
    };
    if (typeof params.extensions === 'string') {
      try {
        params.extensions = JSON.parse(params.extensions) as unknown;
      } catch {
        return null;
      }
    }
  } else {
    return null;
  }
  const docKey = documentKey(params.query, params.extensions, params.operationName);
  if (docKey === null) return null;
  const headers = VARYING_HEADERS.map((name) => request.headers.get(name) ?? '');
  return {
    document: docKey,
    docKey,
    operationName: typeof params.operationName === 'string' ? params.operationName : null,
    key: JSON.stringify([request.method, request.search, params.query ?? null, params.operationName ?? null, params.variables ?? null, params.extensions ?? null, headers]),
  };
}
