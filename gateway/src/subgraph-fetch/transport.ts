import type { Fetcher } from '@apollo/utils.fetcher';
import { Agent, request } from 'undici';
import { BufferedResponse } from './buffered-response.ts';

export interface TransportOptions {
  connections: number;
  timeoutMs: number;
}

/**
 * One keep-alive connection pool for all subgraph calls, so connection set-up is paid once, not
 * per request. undici's request(), not its fetch(): the WHATWG Request/Response machinery costs
 * more per call than a subgraph round trip on loopback, and RemoteGraphQLDataSource only needs
 * status, headers and the body text.
 */
export function subgraphTransport(options: TransportOptions): { fetcher: Fetcher; close(): Promise<void> } {
  const agent = new Agent({
    connections: options.connections,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  const fetcher: Fetcher = async (url, init) => {
    const response = await request(url, {
      method: (init?.method ?? 'GET') as 'GET' | 'POST',
      headers: init?.headers as Record<string, string> | undefined,
      body: init?.body,
      dispatcher: agent,
      signal: init?.signal as AbortSignal | undefined,
    });
    return new BufferedResponse(url, response.statusCode, response.headers, await response.body.text());
  };
  return { fetcher, close: () => agent.close() };
}
