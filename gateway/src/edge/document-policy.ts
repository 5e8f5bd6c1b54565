import { createHash } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { ClientInfo } from '../context.ts';
import type { PersistedRegistry } from '../persisted/registry.ts';

/** One GraphQL request as sent over HTTP (a batch is a list of these). */
interface GraphQLRequestBody {
  query?: unknown;
  operationName?: unknown;
  extensions?: { persistedQuery?: { sha256Hash?: unknown } } & Record<string, unknown>;
  [key: string]: unknown;
}

export interface PolicyDecision {
  /** The id the operation was sent by, when it was a persisted operation. */
  persistedQueryId: string | null;
  /** Under `log`: the operation is not in the client's manifests. */
  unlisted: boolean;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function refuse(message: string, code: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status: 400 } } });
}

/**
 * Applies the client's trusted-document policy to one request, in place:
 * - a persisted id from the client's manifests is replaced by the operation's text;
 * - `enforce`: anything else is refused (unknown ids, and any free-form document);
 * - `log`: free-form documents run but are flagged when not in the client's manifests;
 * - `off`: nothing is checked; unknown ids fall through to automatic persisted queries (APQ).
 */
export function applyDocumentPolicy(request: GraphQLRequestBody, client: ClientInfo, registry: PersistedRegistry): PolicyDecision {
  const hash = request.extensions?.persistedQuery?.sha256Hash;
  const id = typeof hash === 'string' ? hash : null;
  const hasQuery = typeof request.query === 'string' && request.query.length > 0;

  if (id !== null && !hasQuery) {
    const operation = client.registered ? registry.operation(client.name, id) : undefined;
    if (operation) {
      request.query = operation.body;
      request.operationName ??= operation.name;
      // The id of a manifest is not necessarily the document's sha256, which APQ would check.
      const { persistedQuery: _pq, ...otherExtensions } = request.extensions ?? {};
      request.extensions = otherExtensions;
      return { persistedQueryId: id, unlisted: false };
    }
    if (client.policy === 'enforce') {
      throw refuse(`Operation "${id}" is not in the published operations of client "${client.name}".`, 'PERSISTED_QUERY_NOT_IN_LIST');
    }
    return { persistedQueryId: id, unlisted: client.policy === 'log' };
  }

  if (client.policy === 'enforce') {
    throw refuse(
      `Client "${client.name}" may only send published operations, by id (extensions.persistedQuery.sha256Hash).`,
      'PERSISTED_QUERY_REQUIRED',
    );
  }
  if (id !== null && sha256(request.query as string) !== id) {
    // Apollo Server refuses this too, but without an error code.
    throw refuse('The persisted query hash does not match the query (sha256 of the query text).', 'PERSISTED_QUERY_HASH_MISMATCH');
  }
  if (client.policy === 'log' && hasQuery) {
    const listed = client.registered && registry.operation(client.name, sha256(request.query as string)) !== undefined;
    return { persistedQueryId: id, unlisted: !listed };
  }
  return { persistedQueryId: id, unlisted: false };
}

/** GET requests carry the same fields in the query string; extensions are JSON there. */
export function requestFromSearch(search: string): { request: GraphQLRequestBody; params: URLSearchParams } {
  const params = new URLSearchParams(search);
  const request: GraphQLRequestBody = {};
  const query = params.get('query');
  if (query !== null) request.query = query;
  const operationName = params.get('operationName');
  if (operationName !== null) request.operationName = operationName;
  const extensions = params.get('extensions');
  if (extensions !== null) {
    try {
      request.extensions = JSON.parse(extensions) as GraphQLRequestBody['extensions'];
    } catch {
      throw refuse('The "extensions" query parameter is not valid JSON.', 'BAD_REQUEST');
    }
  }
  return { request, params };
}

export function searchFromRequest(request: GraphQLRequestBody, params: URLSearchParams): string {
  if (typeof request.query === 'string') params.set('query', request.query);
  if (typeof request.operationName === 'string') params.set('operationName', request.operationName);
  if (request.extensions && Object.keys(request.extensions).length > 0) params.set('extensions', JSON.stringify(request.extensions));
  else params.delete('extensions');
  const text = params.toString();
  return text ? `?${text}` : '';
}
