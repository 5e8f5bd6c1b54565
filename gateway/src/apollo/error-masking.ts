import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../context.ts';

/** Codes whose messages are written for the client and safe to show as they are. */
const CLIENT_FACING_CODES = new Set([
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'BAD_CURSOR',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'PERSISTED_QUERY_NOT_IN_LIST',
  'PERSISTED_QUERY_REQUIRED',
  'PERSISTED_QUERY_HASH_MISMATCH',
  'UNAUTHENTICATED',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'COST_LIMIT_EXCEEDED',
  'IDEMPOTENCY_KEY_REUSED',
  'PRODUCT_NOT_FOUND',
  'PRODUCTS_UNAVAILABLE',
  'OUT_OF_STOCK',
  'ORDER_NOT_FOUND',
  'ORDER_NOT_CANCELLABLE',
  // A subgraph fetch that failed (subgraph-fetch/faults.ts): the gateway's own message, never a network error.
  'SUBGRAPH_UNAVAILABLE',
  'SUBGRAPH_TIMEOUT',
  // A subgraph's database fault (service-kit's database-errors.ts): the subgraph's own message, never the driver's.
  'DATABASE_UNAVAILABLE',
  'DATABASE_TIMEOUT',
  // The correctness stage's refusal (correctness/operation-corrections.ts): it names only fields of the client's own operation.
  'QUERY_PLANNING_FAILED',
]);

/**
 * The extensions kept in production beside the code, per code: what the README's error table
 * promises clients. Which subgraph failed and why tells a client what to retry; an order refused
 * for stock names the order and the short lines; an order past cancelling says its status.
 */
const KEPT_EXTENSIONS: Record<string, readonly string[]> = {
  SUBGRAPH_UNAVAILABLE: ['serviceName', 'reason'],
  SUBGRAPH_TIMEOUT: ['serviceName', 'reason'],
  DATABASE_UNAVAILABLE: ['serviceName', 'reason'],
  DATABASE_TIMEOUT: ['serviceName', 'reason'],
  OUT_OF_STOCK: ['orderId', 'shortages'],
  ORDER_NOT_CANCELLABLE: ['orderId', 'status'],
  // A refusal of the correctness stage names the fields to ask for apart, or the one no subgraph can answer.
  QUERY_PLANNING_FAILED: ['reason', 'fields', 'coordinate'],
};

/**
 * "Did you mean ...?" names fields, arguments, types and enum values near what the client sent:
 * a map of a schema that is not public in production. Apollo strips it from validation errors
 * (hideSchemaDetailsFromClientErrors); other client-facing messages, such as a variable's value
 * that does not coerce, carry it too.
 */
const SUGGESTION = / ?Did you mean(.+?)\?$/;

/**
 * Every error carries the request id, so a user's report leads to the logs and the trace.
 * In production, anything not written for clients is masked: a stable code and the request
 * id stay, internal messages and details (stack traces, subgraph responses) go.
 */
export function errorMasking(production: boolean): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ contextValue }) {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single' || !response.body.singleResult.errors) return;
          response.body.singleResult.errors = response.body.singleResult.errors.map((error) => {
            const code = typeof error.extensions?.code === 'string' ? error.extensions.code : 'INTERNAL_SERVER_ERROR';
            if (!production) return { ...error, extensions: { ...error.extensions, requestId: contextValue.requestId } };
            const safe = CLIENT_FACING_CODES.has(code);
            return {
              message: safe ? error.message.replace(SUGGESTION, '') : 'Internal server error.',
              ...(error.locations ? { locations: error.locations } : {}),
              ...(error.path ? { path: error.path } : {}),
              extensions: {
                code: safe ? code : 'INTERNAL_SERVER_ERROR',
                ...(safe && KEPT_EXTENSIONS[code] ? pick(error.extensions, KEPT_EXTENSIONS[code]) : {}),
                requestId: contextValue.requestId,
              },
            };
          });
        },
      };
    },
  };
}

function pick(extensions: Record<string, unknown> | undefined, keys: readonly string[]): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const key of keys) if (extensions?.[key] !== undefined) picked[key] = extensions[key];
  return picked;
}
