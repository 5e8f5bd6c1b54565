import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HTTPGraphQLRequest, HTTPGraphQLResponse } from '@apollo/server';
import type { Caller } from './auth/authenticate.ts';
import type { ClientInfo } from './context.ts';

/** One GraphQL operation request as sent over HTTP (a batch is a list of these). */
export interface OperationRequest {
  query?: unknown;
  operationName?: unknown;
  variables?: unknown;
  extensions?: { persistedQuery?: { sha256Hash?: unknown } } & Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * One HTTP request on its way through the pipeline: what the stages before a stage have
 * established about it. Each field says which stage sets it; a stage reads only what earlier
 * stages set (see `established`), so every fact is worked out once (the caller is verified once).
 */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Correlates the response, the logs and the trace: the W3C trace id when the caller sent one. */
  readonly requestId: string;
  /** The caller's address: the connection's, or from X-Forwarded-For only as far as trusted proxies wrote it. */
  readonly clientAddress: string;
  /** Headers every answer to this request carries, whoever writes it (request id, rate-limit state). */
  readonly responseHeaders: Record<string, string>;
  /** `readBody`: the GraphQL request as Apollo executes it; `documentPolicy` may rewrite it. */
  request?: HTTPGraphQLRequest;
  /**
   * `readBody`: the operations of the request (one, or each of a batch), the same objects as in
   * `request.body` for a POST; for a GET, parsed from the query string (`documentPolicy` writes
   * them back into `request.search`).
   */
  operations?: OperationRequest[];
  /** `authenticate`: who is calling, verified. */
  caller?: Caller;
  /** `identifyClient`: which client, and its trusted-document policy. */
  client?: ClientInfo;
  /** `documentPolicy`: the persisted operation id the request was sent by, if any. */
  persistedQueryId?: string | null;
}

/** What a stage hands on to: the rest of the pipeline, which answers the request. */
export type Next = () => Promise<HTTPGraphQLResponse>;

/**
 * A step of the request pipeline. It may answer by itself (a refusal, a cached or shared
 * answer), or call `next` and return (or adapt) what the rest answered. Refusals are thrown as
 * `HttpError` or as `GraphQLError` with `extensions.http.status`; the `respond` stage writes them.
 */
export type Stage = (exchange: Exchange, next: Next) => Promise<HTTPGraphQLResponse>;

/** The stages in order, first one outermost: the pipeline as one function of an exchange. */
export function runStages(stages: readonly Stage[]): (exchange: Exchange) => Promise<HTTPGraphQLResponse> {
  return (exchange) => {
    const dispatch = (index: number): Promise<HTTPGraphQLResponse> => {
      const stage = stages[index];
      if (!stage) throw new Error('the request pipeline ended without an answer: its last stage must answer');
      return stage(exchange, () => dispatch(index + 1));
    };
    return dispatch(0);
  };
}

/** A field an earlier stage sets; reading it before that stage ran is a mistake in the pipeline's order. */
export function established<K extends keyof Exchange>(exchange: Exchange, field: K): NonNullable<Exchange[K]> {
  const value = exchange[field];
  if (value === undefined || value === null) {
    throw new Error(`request pipeline order: "${String(field)}" is read before the stage that establishes it ran`);
  }
  return value as NonNullable<Exchange[K]>;
}
