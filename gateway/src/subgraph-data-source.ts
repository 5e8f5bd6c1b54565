import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { Fetcher } from '@apollo/utils.fetcher';
import { ANONYMOUS_CLAIMS, CLAIMS_HEADER, SIGNATURE_HEADER, encodeClaims, signature } from '@shop/service-kit';
import { Agent, request } from 'undici';
import type { GatewayContext } from './context.ts';
import { BufferedResponse } from './speed/buffered-response.ts';

/** Headers a client sends that subgraphs may need; everything else stays at the edge. */
const FORWARDED_HEADERS = ['apollographql-client-name', 'apollographql-client-version', 'accept-language'] as const;
const ANONYMOUS_ENCODED = encodeClaims(ANONYMOUS_CLAIMS);

export interface SubgraphClientOptions {
  connections: number;
  timeoutMs: number;
  /** Shared with the subgraphs; every request is signed with it. */
  signingSecret: string;
}

/**
 * One keep-alive connection pool for all subgraph fetches (connection set-up is paid once,
 * not per request), and the signature that lets a subgraph know the request comes from the
 * gateway.
 */
export function createSubgraphFetcher(options: SubgraphClientOptions): { fetcher: Fetcher; close(): Promise<void> } {
  const agent = new Agent({
    connections: options.connections,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  // undici's request(), not its fetch(): the WHATWG Request/Response machinery costs more per call
  // than a subgraph round trip on loopback, and RemoteGraphQLDataSource only needs status, headers
  // and the body text. The signature is added here because only here is the final body known.
  const fetcher: Fetcher = async (url, init) => {
    const headers: Record<string, string> = { ...(init?.headers as Record<string, string> | undefined) };
    const claims = headers[CLAIMS_HEADER] ?? ANONYMOUS_ENCODED;
    headers[CLAIMS_HEADER] = claims;
    const body = typeof init?.body === 'string' ? init.body : '';
    headers[SIGNATURE_HEADER] = signature(options.signingSecret, claims, body);
    const response = await request(url, {
      method: (init?.method ?? 'GET') as 'GET' | 'POST',
      headers,
      body: init?.body,
      dispatcher: agent,
      signal: init?.signal as AbortSignal | undefined,
    });
    return new BufferedResponse(url, response.statusCode, response.headers, await response.body.text());
  };
  return { fetcher, close: () => agent.close() };
}

export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const headers = request.http?.headers;
    // Requests the gateway makes on its own (health checks) have no caller and go unsigned-as-anonymous.
    if (!headers || !('caller' in context) || !context.caller) return;
    const { caller } = context;
    headers.set(CLAIMS_HEADER, encodeClaims({ userId: caller.userId, scopes: caller.scopes, issuer: 'gateway' }));
    for (const name of FORWARDED_HEADERS) {
      const value = context.requestHeaders?.[name];
      if (typeof value === 'string') headers.set(name, value);
    }
  }
}
