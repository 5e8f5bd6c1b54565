import { createRequire } from 'node:module';
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLRequestContext, GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { Fetcher, FetcherResponse } from '@apollo/utils.fetcher';
import { trace, type Span } from '@opentelemetry/api';
import { Kind, type DocumentNode, type GraphQLError } from 'graphql';
import type { GatewayContext } from '../context.ts';
import { requestBatcher, type OutgoingRequest, type PlanFetch } from '../fetch-batching/request-batcher.ts';
import type { FetchTelemetry } from '../telemetry/fetch-telemetry.ts';
import { failedFetchResponse } from './failed-fetch.ts';
import { SubgraphFault } from './faults.ts';
import { OPERATION_KIND_HEADER } from './resilience.ts';
import { AUDIENCE_HEADER, CLAIMS_HEADER, encodeClaims } from './signing.ts';

type ParseBodyArgs = Parameters<RemoteGraphQLDataSource<GatewayContext>['parseBody']>;
const require = createRequire(import.meta.url);
const { parseCacheControlHeader } = require('@apollo/gateway/dist/datasources/parseCacheControlHeader.js') as {
  parseCacheControlHeader: (header: string | undefined) => Record<string, string | true>;
};
type ProcessOptions = GraphQLDataSourceProcessOptions<GatewayContext>;
/** What @apollo/gateway's executor calls a data source with for a fetch of a plan. */
type FetchOptions = Extract<ProcessOptions, { incomingRequestContext: unknown }>;
/** A plan fetch the batcher holds, with the options it came with and its `gateway.fetch` span. */
type HeldFetch = PlanFetch & { options: FetchOptions; span: Span | undefined };

/** Headers a client sends that subgraphs may need; everything else stays at the edge. */
const FORWARDED_HEADERS = ['apollographql-client-name', 'apollographql-client-version', 'accept-language'] as const;

/**
 * One subgraph as @apollo/gateway calls it for each fetch of a query plan: the fetch is measured,
 * carries the verified caller's claims, the client headers subgraphs may need and the trace, and
 * goes out through `fetcher` (deduplication, signing, the connection pool: see pipeline.ts).
 * With `batching`, the query fetches one request starts together go out as one HTTP request
 * (fetch-batching/request-batcher.ts); mutations always go alone, in the plan's order.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly name: string;
  private readonly telemetry: FetchTelemetry;
  private readonly batcher: ReturnType<typeof requestBatcher<HeldFetch>> | null;

  constructor(config: { name: string; url: string | undefined; fetcher: Fetcher; telemetry: FetchTelemetry; batching: boolean }) {
    super({ url: config.url, fetcher: config.fetcher });
    this.name = config.name;
    this.telemetry = config.telemetry;
    this.batcher = config.batching
      ? requestBatcher<HeldFetch>({
          send: (request, first, carried) => {
            linkToCarrier(this.name, carried);
            return this.send(request, first.options);
          },
          failed: (error, fetch) => {
            if (!(error instanceof SubgraphFault)) throw error;
            return failedFetchResponse(error, { query: fetch.query, variables: fetch.variables });
          },
        })
      : null;
  }

  override async process(options: ProcessOptions): Promise<GatewayGraphQLResponse> {
    // Health checks and schema loading are not fetches of an operation.
    if (!('incomingRequestContext' in options)) return super.process(options);
    const { query, variables, operationName, http } = options.request;
    // Apollo's own trace headers (ftv1) belong to one fetch: such a fetch goes alone.
    if (this.batcher && query && !http && operationKind(options.document, query) === 'query') {
      return this.batcher.fetch(options.context, { query, operationName, variables: variables ?? {}, options, span: trace.getActiveSpan() });
    }
    const representations = variables?.representations;
    try {
      return await this.send({ size: Array.isArray(representations) ? representations.length : undefined, fetches: 1 }, options);
    } catch (error) {
      // A subgraph that is down, hung or broken costs only the fields this fetch was to provide.
      if (!(error instanceof SubgraphFault)) throw error;
      return failedFetchResponse(error, { document: options.document, query, variables });
    }
  }

  /** One HTTP request, measured; a SubgraphFault (counted, on the span) is thrown for the caller to answer. */
  private send(request: OutgoingRequest | { size: number | undefined; fetches: number }, options: FetchOptions): Promise<GatewayGraphQLResponse> {
    const outgoing: FetchOptions =
      'query' in request
        ? { ...options, request: { query: request.query, operationName: request.operationName, variables: request.variables }, document: undefined }
        : options;
    const size = 'query' in request ? (request.representations || undefined) : request.size;
    return this.telemetry.measure(this.name, { size, fetches: request.fetches }, async () => {
      try {
        // Apollo's own trace headers (ftv1) ask for its full path; every other fetch takes the lean one.
        return await (outgoing.request.http ? super.process(outgoing) : this.processFetch(outgoing));
      } catch (error) {
        if (error instanceof SubgraphFault) this.telemetry.failed(error);
        throw error;
      }
    });
  }

  /**
   * RemoteGraphQLDataSource.process for a plan's fetch, step for step (headers by willSendRequest,
   * the body, errorFromResponse, parseBody, didReceiveResponse, the subgraph's Cache-Control
   * restricting the answer's cache policy), without the node-fetch Headers and Request it builds
   * and copies for every fetch: a fetch answered by a shared in-flight request (subgraph dedup)
   * cost more in them than in everything else.
   */
  private async processFetch(options: FetchOptions): Promise<GatewayGraphQLResponse> {
    const { request, context } = options;
    if (!request.query) throw new Error('Missing query');
    const headers = new OutgoingHeaders();
    headers.set('Content-Type', 'application/json');
    request.http = { method: 'POST', url: this.url!, headers: headers as unknown as NonNullable<typeof request.http>['headers'] };
    this.willSendRequest(options);
    const { query, variables, operationName } = request;
    const fetchResponse = await this.fetcher(this.url!, { method: 'POST', headers: headers.sorted(), body: JSON.stringify({ query, variables, operationName }) });
    if (!fetchResponse.ok) throw await this.errorFromResponse(fetchResponse);
    const body = await this.parseBody(fetchResponse, undefined, context);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error(`Expected JSON response body, but received: ${String(body)}`);
    const response = this.didReceiveResponse({ response: { ...(body as GatewayGraphQLResponse), http: fetchResponse as never }, request, context });
    const policy = options.incomingRequestContext.overallCachePolicy;
    if (this.honorSubgraphCacheControlHeader && policy && 'restrict' in policy) policy.restrict(cacheHintOf(fetchResponse.headers.get('cache-control')));
    return response;
  }

  /**
   * A 5xx is the subgraph failing, not answering: its fields fail as unavailable. A 401 is the
   * subgraph refusing the gateway's own internal token (a key not trusted, or a token gone stale
   * while the subgraph was stalled): the caller's credentials are not in question, so the caller
   * must not read UNAUTHENTICATED; the subgraph's code stays in the cause, for logs and traces.
   * Other statuses stay Apollo's errors.
   */
  override async errorFromResponse(response: FetcherResponse): Promise<GraphQLError> {
    if (response.status >= 500) throw new SubgraphFault(this.name, 'bad_status');
    if (response.status === 401) throw new SubgraphFault(this.name, 'refused', { cause: await super.errorFromResponse(response) });
    return super.errorFromResponse(response);
  }

  /** A body that is not a GraphQL response (a proxy's error page, a truncated body) is the subgraph failing too. */
  override async parseBody(response: FetcherResponse, request?: ParseBodyArgs[1], context?: GatewayContext): Promise<object | string> {
    let body: object | string;
    try {
      body = await super.parseBody(response, request, context);
    } catch (error) {
      throw new SubgraphFault(this.name, 'bad_response', { cause: error });
    }
    if (response.ok && (typeof body !== 'object' || body === null)) throw new SubgraphFault(this.name, 'bad_response');
    return body;
  }

  override willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const { request, context } = options;
    const headers = request.http?.headers;
    if (!headers) return;
    headers.set(AUDIENCE_HEADER, this.name);
    // Only query fetches may be retried (resilience.ts); the fetch's own operation says which it is.
    headers.set(OPERATION_KIND_HEADER, operationKind('document' in options ? options.document : undefined, request.query));
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

/**
 * A batched request travels under the span active when it is sent, the `gateway.fetch` of the
 * fetch that opened the wave (the HTTP call and the subgraph's spans are its children); the other
 * fetches it carried link to that span and name it, so a trace shows where each fetch went.
 */
function linkToCarrier(subgraph: string, carried: readonly HeldFetch[]): void {
  const carrierSpan = trace.getActiveSpan();
  const carrier = carrierSpan?.spanContext();
  if (!carrier || carried.length < 2) return;
  for (const fetch of carried) {
    if (!fetch.span || fetch.span === carrierSpan) continue;
    fetch.span.addLink({ context: carrier, attributes: { 'graphql.federation.link': 'batched_into' } });
    fetch.span.setAttributes({ 'graphql.subgraph.name': subgraph, 'graphql.federation.batched_into': carrier.spanId });
  }
}

/** The headers willSendRequest sets on a fetch, by lower-case name as Headers keeps them, handed on sorted as Headers iterates. */
class OutgoingHeaders {
  private readonly values = new Map<string, string>();
  set(name: string, value: string): void {
    this.values.set(name.toLowerCase(), String(value));
  }
  get(name: string): string | null {
    return this.values.get(name.toLowerCase()) ?? null;
  }
  has(name: string): boolean {
    return this.values.has(name.toLowerCase());
  }
  delete(name: string): void {
    this.values.delete(name.toLowerCase());
  }
  sorted(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of [...this.values.keys()].sort()) out[name] = this.values.get(name)!;
    return out;
  }
}

/** The cache hint of a subgraph's Cache-Control, read as RemoteGraphQLDataSource reads it. */
function cacheHintOf(header: string | null): { maxAge: number; scope?: 'PRIVATE' | 'PUBLIC' } {
  const parsed = parseCacheControlHeader(header ?? undefined);
  const hint: { maxAge: number; scope?: 'PRIVATE' | 'PUBLIC' } = { maxAge: 0 };
  const maxAge = parsed['max-age'];
  if (typeof maxAge === 'string' && /^[0-9]+$/.test(maxAge)) hint.maxAge = Number(maxAge);
  if (parsed.private === true) hint.scope = 'PRIVATE';
  if (parsed.public === true) hint.scope = 'PUBLIC';
  return hint;
}

function operationKind(document: DocumentNode | undefined, query: string | undefined): string {
  const operation = document?.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (operation) return operation.operation;
  const keyword = /^\s*(query|mutation|subscription)\b/.exec(query ?? '')?.[1];
  return keyword ?? (query?.trimStart().startsWith('{') ? 'query' : 'mutation');
}
