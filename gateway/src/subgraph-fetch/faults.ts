import { BrokenCircuitError, IsolatedCircuitError, TaskCancelledError } from 'cockatiel';

/**
 * The codes a client sees on the fields of a subgraph fetch that failed. Stable and documented
 * (README, "How the API degrades"): clients may retry on both.
 * - SUBGRAPH_UNAVAILABLE: the subgraph refused or dropped the connection, answered 5xx or
 *   something that is not a GraphQL response, refused the gateway's own internal token, or its
 *   circuit is open (the gateway fails fast).
 * - SUBGRAPH_TIMEOUT: the subgraph did not answer within its timeout.
 */
export const SUBGRAPH_UNAVAILABLE = 'SUBGRAPH_UNAVAILABLE';
export const SUBGRAPH_TIMEOUT = 'SUBGRAPH_TIMEOUT';
export type FaultCode = typeof SUBGRAPH_UNAVAILABLE | typeof SUBGRAPH_TIMEOUT;

/** Why, in `extensions.reason` and the metrics' `reason` label: a closed set. */
export type FaultReason = 'connection_failed' | 'bad_status' | 'bad_response' | 'refused' | 'circuit_open' | 'timeout';

/**
 * A subgraph fetch that failed for a reason outside the subgraph's own answer: the data source
 * turns it into errors at the fields the fetch was to provide. The message is the gateway's own,
 * for the client; the network error stays in `cause`, for logs and traces only.
 */
export class SubgraphFault extends Error {
  override readonly name = 'SubgraphFault';

  constructor(
    readonly subgraph: string,
    readonly reason: FaultReason,
    options?: { cause?: unknown },
  ) {
    super(clientMessage(subgraph, reason), options);
  }

  get code(): FaultCode {
    return this.reason === 'timeout' ? SUBGRAPH_TIMEOUT : SUBGRAPH_UNAVAILABLE;
  }
}

function clientMessage(subgraph: string, reason: FaultReason): string {
  switch (reason) {
    case 'timeout':
      return `The ${subgraph} service did not answer in time, so this field is null. Retrying later may succeed.`;
    case 'refused':
      return `The ${subgraph} service refused the gateway's call, so this field is null. Retrying may succeed; if it keeps failing, the operators are alerted.`;
    case 'circuit_open':
      return `The ${subgraph} service is unavailable and the gateway is not calling it until it recovers, so this field is null. Retry in a few seconds.`;
    default:
      return `The ${subgraph} service is unavailable, so this field is null. Retrying later may succeed.`;
  }
}

/** Error codes of a connection that could not be made or was lost (Node's and undici's). */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * The fault a transport error stands for, or null for errors that are not the subgraph's
 * unavailability (a bug in a layer, a refused request): those keep failing loudly.
 */
export function faultOf(error: unknown, subgraph: string): SubgraphFault | null {
  if (error instanceof SubgraphFault) return error;
  if (error instanceof TaskCancelledError) return new SubgraphFault(subgraph, 'timeout', { cause: error });
  if (error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError) return new SubgraphFault(subgraph, 'circuit_open', { cause: error });
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) return new SubgraphFault(subgraph, 'timeout', { cause: error });
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return new SubgraphFault(subgraph, 'connection_failed', { cause: error });
  return null;
}
