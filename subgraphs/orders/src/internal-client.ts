import { BrokenCircuitError, circuitBreaker, ConsecutiveBreaker, handleType } from 'cockatiel';
import { adoptCallReport, tracedCall } from '@shop/observability';
import { INTERNAL_TOKEN_HEADER, type InternalSigner } from '@shop/service-kit';

interface GraphQLAnswer<Data> {
  data?: Data | null;
  errors?: Array<{ message?: string; extensions?: Record<string, unknown> }>;
  extensions?: Record<string, unknown>;
}

/** Why a call to another subgraph gave no usable answer: network, timeout, HTTP status or GraphQL errors. */
export class InternalCallError extends Error {
  constructor(
    message: string,
    readonly answer?: GraphQLAnswer<unknown>,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'InternalCallError';
  }
}

export type InternalClient = <Data>(query: string, variables: Record<string, unknown>) => Promise<Data>;

/** The call did not get an answer (unreachable, timed out, HTTP error): what the breaker counts. */
class Unanswered extends InternalCallError {}

/** After this many unanswered calls in a row, the service is not called for BREAKER_HALF_OPEN_MS. */
const BREAKER_FAILURES = 3;
const BREAKER_HALF_OPEN_MS = 5_000;

/**
 * Orders calling another subgraph as itself, with its own key: signed (the subgraph trusts
 * orders' public key), traced (a client span and the call report's fetch), bounded in time. No
 * user's claims travel with these calls. A circuit breaker per service: once it has failed to
 * answer BREAKER_FAILURES times in a row, calls fail at once for BREAKER_HALF_OPEN_MS (then one
 * tries again), so a hung inventory costs a placeOrder nothing but a PENDING answer rather than
 * the whole timeout, and does not hold the gateway's execution slots.
 */
export function internalClient(service: string, url: string, signer: InternalSigner, timeoutMs: number): InternalClient {
  const { pathname, search } = new URL(url);
  const target = `${pathname}${search}`;
  const breaker = circuitBreaker(handleType(Unanswered), { halfOpenAfter: BREAKER_HALF_OPEN_MS, breaker: new ConsecutiveBreaker(BREAKER_FAILURES) });
  return async <Data>(query: string, variables: Record<string, unknown>): Promise<Data> => {
    const body = JSON.stringify({ query, variables });
    let answer: GraphQLAnswer<Data>;
    try {
      answer = await breaker.execute(async () => {
        try {
          const token = await signer.sign({ audience: service, method: 'POST', target, body });
          const response = await tracedCall(service, (traceHeaders) =>
            fetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...traceHeaders, [INTERNAL_TOKEN_HEADER]: token },
              body,
              signal: AbortSignal.timeout(timeoutMs),
            }),
          );
          if (!response.ok) throw new Unanswered(`${service} answered HTTP ${response.status}`);
          return (await response.json()) as GraphQLAnswer<Data>;
        } catch (error) {
          if (error instanceof Unanswered) throw error;
          throw new Unanswered(`${service} could not be reached: ${(error as Error).message}`, undefined, { cause: error });
        }
      });
      adoptCallReport(answer.extensions);
    } catch (error) {
      if (error instanceof BrokenCircuitError) {
        throw new InternalCallError(`${service} failed to answer ${BREAKER_FAILURES} times in a row; not calling it for up to ${BREAKER_HALF_OPEN_MS} ms`, undefined, { cause: error });
      }
      throw error;
    }
    if (answer.errors?.length || !answer.data) {
      throw new InternalCallError(`${service} answered errors: ${answer.errors?.map((e) => e.message).join('; ') ?? 'no data'}`, answer);
    }
    return answer.data;
  };
}
