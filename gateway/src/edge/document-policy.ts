import { createHash } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { Logger } from '@shop/observability';
import type { ClientInfo } from '../context.ts';
import { established, type OperationRequest, type Stage } from '../exchange.ts';
import type { PersistedRegistry } from '../persisted/registry.ts';
import { searchWith } from './read-body.ts';


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

/** Apollo Server refuses this too, but without an error code. */
function hashMismatch(): GraphQLError {
  return refuse('The persisted query hash does not match the query (sha256 of the query text).', 'PERSISTED_QUERY_HASH_MISMATCH');
}

/**
 * The client's trusted-document policy on every operation of the request; a persisted operation
 * id of the client's manifests becomes the operation's text (`exchange.persistedQueryId`).
 */
export function documentPolicy(registry: PersistedRegistry, options: { logger: Logger; onUnlisted(client: string): void }): Stage {
  return async (exchange, next) => {
    const client = established(exchange, 'client');
    const operations = established(exchange, 'operations');
    const request = established(exchange, 'request');
    exchange.persistedQueryId = null;
    for (const operation of operations) {
      const decision = applyDocumentPolicy(operation, client, registry);
      if (decision.unlisted) {
        options.onUnlisted(client.name);
        options.logger.warn({ client: client.name, requestId: exchange.requestId, operationName: operation.operationName }, "operation not in the client's manifests");
      }
      exchange.persistedQueryId ??= decision.persistedQueryId;
    }
    // A GET's operation lives in the query string: write the rewritten document back there.
    if (request.method === 'GET' && operations[0]) request.search = searchWith(operations[0], request.search);
    return next();
  };
}

/**
 * Applies the client's trusted-document policy to one request, in place:
 * - a persisted id from the client's manifests is replaced by the operation's text;
 * - `enforce`: anything else is refused (unknown ids, and any free-form document);
 * - `log`: free-form documents run but are flagged when not in the client's manifests;
 * - `off`: nothing is checked; unknown ids fall through to automatic persisted queries (APQ).
 */
export function applyDocumentPolicy(request: OperationRequest, client: ClientInfo, registry: PersistedRegistry): PolicyDecision {
  checkPersistedQueryShape(request.extensions?.persistedQuery);
  const hash = request.extensions?.persistedQuery?.sha256Hash;
  const id = typeof hash === 'string' ? hash : null;
  const hasQuery = typeof request.query === 'string' && request.query.length > 0;

  if (id !== null && !hasQuery) {
    const operation = client.manifestsOf !== null ? registry.operation(client.manifestsOf, id) : undefined;
    if (operation) {
      request.query = operation.body;
      request.operationName ??= operation.name;
      // The id of a manifest is not necessarily the document's sha256, which APQ would check.
      const { persistedQuery: _pq, ...otherExtensions } = request.extensions ?? {};
      request.extensions = otherExtensions;
      return { persistedQueryId: id, unlisted: false };
    }
    if (client.policy === 'enforce') {
      throw refuse(`Operation "${id}" is not in the published operations of client "${client.manifestsOf ?? client.name}".`, 'PERSISTED_QUERY_NOT_IN_LIST');
    }
    // An empty query with a hash: Apollo checks the hash against "" and refuses without a code.
    if (typeof request.query === 'string' && sha256(request.query) !== id) throw hashMismatch();
    return { persistedQueryId: id, unlisted: client.policy === 'log' };
  }

  if (client.policy === 'enforce') {
    throw refuse(
      `Client "${client.name}" may only send published operations, by id (extensions.persistedQuery.sha256Hash).`,
      'PERSISTED_QUERY_REQUIRED',
    );
  }
  if (id !== null && sha256(request.query as string) !== id) throw hashMismatch();
  if (client.policy === 'log' && hasQuery) {
    const listed = client.manifestsOf !== null && registry.operation(client.manifestsOf, sha256(request.query as string)) !== undefined;
    return { persistedQueryId: id, unlisted: !listed };
  }
  return { persistedQueryId: id, unlisted: false };
}

/**
 * `extensions.persistedQuery`, when sent, is `{ "version": 1, "sha256Hash": "<text>" }`. Apollo
 * Server refuses another version or a hash that is not text with an error without a code (so
 * INTERNAL_SERVER_ERROR, masked in production); refused here with a code the client can act on.
 */
function checkPersistedQueryShape(persistedQuery: unknown): void {
  // Apollo reads a falsy persistedQuery as none.
  if (!persistedQuery) return;
  const { version, sha256Hash } = (typeof persistedQuery === 'object' ? persistedQuery : {}) as { version?: unknown; sha256Hash?: unknown };
  if (version !== 1 || typeof sha256Hash !== 'string') {
    throw refuse('extensions.persistedQuery must be {"version": 1, "sha256Hash": "<the sha256 of the query, or a published operation id>"}.', 'BAD_REQUEST');
  }
}
