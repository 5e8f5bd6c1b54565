import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLRequestContext, GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { Fetcher } from '@apollo/utils.fetcher';
import type { GatewayContext } from '../context.ts';
import type { FetchTelemetry } from '../telemetry/fetch-telemetry.ts';
import { AUDIENCE_HEADER, CLAIMS_HEADER, encodeClaims } from './signing.ts';

/** Headers a client sends that subgraphs may need; everything else stays at the edge. */
const FORWARDED_HEADERS = ['apollographql-client-name', 'apollographql-client-version', 'accept-language'] as const;

/**
 * One subgraph as @apollo/gateway calls it for each fetch of a query plan: the fetch is measured,
 * carries the verified caller's claims, the client headers subgraphs may need and the trace, and
 * goes out through `fetcher` (deduplication, signing, the connection pool: see pipeline.ts).
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly name: string;
  private readonly telemetry: FetchTelemetry;

  constructor(config: { name: string; url: string | undefined; fetcher: Fetcher; telemetry: FetchTelemetry }) {
    super({ url: config.url, fetcher: config.fetcher });
    this.name = config.name;
    this.telemetry = config.telemetry;
  }

  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    // Health checks and schema loading are not fetches of an operation.
    if (!('incomingRequestContext' in options)) return super.process(options);
    return this.telemetry.measure(this.name, options.request.variables?.representations, () => super.process(options));
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const headers = request.http?.headers;
    if (!headers) return;
    headers.set(AUDIENCE_HEADER, this.name);
    // Requests the gateway makes on its own (health checks) have no caller and go signed as anonymous.
    if (!('caller' in context) || !context.caller) return;
    const { caller } = context;
    headers.set(CLAIMS_HEADER, encodeClaims({ userId: caller.userId, scopes: caller.scopes }));
    for (const name of FORWARDED_HEADERS) {
      const value = context.requestHeaders?.[name];
      if (typeof value === 'string') headers.set(name, value);
    }
    this.telemetry.propagate(headers);
  }

  override didReceiveResponse({
    response,
  }: Required<Pick<GatewayGraphQLRequestContext<GatewayContext>, 'request' | 'response' | 'context'>>): GatewayGraphQLResponse {
    this.telemetry.collectReport(response);
    return response;
  }
}
