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

/**
 * Orders calling another subgraph as itself, with its own key: signed (the subgraph trusts
 * orders' public key), traced (a client span and the call report's fetch), bounded in time. No
 * user's claims travel with these calls.
 */
export function internalClient(service: string, url: string, signer: InternalSigner, timeoutMs: number): InternalClient {
  const { pathname, search } = new URL(url);
  const target = `${pathname}${search}`;
  return async <Data>(query: string, variables: Record<string, unknown>): Promise<Data> => {
    const body = JSON.stringify({ query, variables });
    let answer: GraphQLAnswer<Data>;
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
      if (!response.ok) throw new InternalCallError(`${service} answered HTTP ${response.status}`);
      answer = (await response.json()) as GraphQLAnswer<Data>;
      adoptCallReport(answer.extensions);
    } catch (error) {
      if (error instanceof InternalCallError) throw error;
      throw new InternalCallError(`${service} could not be reached: ${(error as Error).message}`, undefined, { cause: error });
    }
    if (answer.errors?.length || !answer.data) {
      throw new InternalCallError(`${service} answered errors: ${answer.errors?.map((e) => e.message).join('; ') ?? 'no data'}`, answer);
    }
    return answer.data;
  };
}
