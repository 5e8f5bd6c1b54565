import { createHash } from 'node:crypto';
import { HeaderMap, type HTTPGraphQLResponse } from '@apollo/server';
import type { Logger } from '@shop/observability';
import type { Caller } from '../auth/authenticate.ts';
import { established, type Stage } from '../exchange.ts';
import type { OperationKinds } from './operation-kinds.ts';
import { collectsCallReport, operationRef } from './request-key.ts';
import type { ResponseStore, StoredResponse } from './response-store.ts';

export interface ResponseCacheOptions {
  store: ResponseStore;
  kinds: OperationKinds;
  logger: Logger;
  /** Namespace of the keys (a shared Redis may hold other data). */
  prefix?: string;
}

/** `cache-control: max-age=N, public|private` as Apollo's cache-control plugin writes it for a cacheable answer. */
const CACHEABLE = /^max-age=(\d+), (public|private)$/;

/**
 * Whole-response cache for queries. What may be cached, and for how long, is the policy Apollo
 * computed from the subgraphs' @cacheControl hints (the `cache-control` header of the answer):
 * answers with errors, mutations, answers carrying a call report and anything without a
 * positive max-age are never stored.
 * PUBLIC answers are shared by every caller; PRIVATE ones are stored under the verified user's
 * id and served to that user only (never to an anonymous caller). It runs after `authenticate`,
 * so an expired or forged token never reads the cache.
 */
export function responseCache(options: ResponseCacheOptions): Stage {
  const prefix = options.prefix ?? '';
  const { store, kinds, logger } = options;
  // One body object per stored answer (the in-process store returns the same object on every hit),
  // so the bytes the node:http bridge makes of it are made once, not on every hit.
  const bodies = new WeakMap<StoredResponse, { kind: 'complete'; string: string }>();
  const bodyOf = (hit: StoredResponse) => {
    let body = bodies.get(hit);
    if (!body) bodies.set(hit, (body = { kind: 'complete', string: hit.body }));
    return body;
  };
  const storeFailed = (error: unknown) => logger.warn({ err: error }, 'response cache unavailable; answering without it');

  return async (exchange, next) => {
    const ref = operationRef(established(exchange, 'request'));
    // A call report describes one execution and shows its plan and SQL: never stored, and never
    // answered from a stored answer that lacks it.
    if (ref === null || collectsCallReport()) return next();
    const identity = identityOf(established(exchange, 'caller'));
    const base = createHash('sha256').update(ref.key).digest('base64url');
    const publicKey = `${prefix}public:${base}`;
    const privateKey = identity === null ? null : `${prefix}private:${createHash('sha256').update(identity).digest('base64url')}:${base}`;

    if (kinds.isQuery(ref.docKey)) {
      try {
        const hit = (await store.get(publicKey)) ?? (privateKey === null ? undefined : await store.get(privateKey));
        if (hit) return { status: hit.status, headers: new HeaderMap(hit.headers), body: bodyOf(hit) };
      } catch (error) {
        storeFailed(error);
      }
    }

    const response = await next();
    // Decided after execution: this is when a document seen for the first time is known to be a query.
    if (!kinds.isQuery(ref.docKey) || response.body.kind !== 'complete' || (response.status ?? 200) !== 200) return response;
    const policy = CACHEABLE.exec(response.headers.get('cache-control') ?? '');
    const maxAge = Number(policy?.[1] ?? 0);
    if (!policy || maxAge <= 0) return response;
    const key = policy[2] === 'public' ? publicKey : privateKey;
    if (key === null) return response;
    store.set(key, stored(response, response.body.string), maxAge).catch(storeFailed);
    return response;
  };
}

/**
 * The signed-in user as a cache key part: the user and the granted scopes (two tokens of one user
 * with other scopes may see other fields); null for a caller that is not a signed-in user.
 */
function identityOf(caller: Caller): string | null {
  return caller.userId === null ? null : `${caller.userId}:${[...caller.scopes].sort().join(' ')}`;
}

function stored(response: HTTPGraphQLResponse, body: string) {
  return { status: response.status ?? 200, headers: [...response.headers], body };
}
