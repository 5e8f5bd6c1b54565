/**
 * The gateway's request path, in the order it runs. Follow a request from top to bottom; each
 * stage is one module, one hop from here. `server.ts` builds the parts from the configuration
 * and serves what this file assembles.
 *
 *   HTTP POST/GET /graphql                (the explorer's files: /explorer/*, edge/explorer.ts)
 *    0  telemetry          the request span, request metrics, call report      telemetry/gateway-telemetry.ts
 *    1  respond            writes the answer, or the refusal a stage threw      edge/respond.ts
 *    2  cors               allowed origins; preflights answered                 edge/cors.ts
 *    3  deadline           504 when the whole request takes too long            edge/deadline.ts
 *    4  rateLimitByAddress per address, before any work is done for it          edge/rate-limit.ts
 *    4a explorer           GraphiQL for a browser's GET (EXPLORER)               edge/explorer.ts
 *    5  readBody           content type, size limit, JSON, GET parameters       edge/read-body.ts
 *    6  limitFailedCredentials  an address failing credentials is slowed down  edge/rate-limit.ts
 *    7  authenticate       the bearer token, verified once                      auth/authenticate.ts
 *    8  identifyClient     API key or token client, its document policy        edge/client.ts
 *    9  rateLimitByClient  per user of a registered client, client ceiling      edge/rate-limit.ts
 *   10  documentPolicy     trusted documents; persisted ids become documents    edge/document-policy.ts
 *   11  operationLimits    batch size, tokens, depth, aliases, root fields      limits/operation-limits.ts
 *   12  inboundDedup       identical in-flight queries execute once (optional)  sharing/inbound-dedup.ts
 *   13  responseCache      whole answers by @cacheControl (optional)            sharing/response-cache.ts
 *   14  admission          bounded executions at once, the rest queued          limits/admission.ts
 *   15  execute            Apollo Server:                                       apollo/execute.ts
 *         plugins (apolloPlugins below): operation resolution, telemetry, operation kinds, operation recording,
 *           cost limit, error masking                                         recording/operation-recorder.ts
 *         authorization: fields the caller may not see become null + error    auth/authorization/
 *         correctness: what Apollo's planner gets wrong, rewritten or refused   correctness/correcting-gateway.ts
 *           (QUERY_PLANNING_FAILED); resolvable keys first, per supergraph load
 *         @apollo/gateway: query plan, then per subgraph fetch                 apollo/federated-gateway.ts
 *           plans scheduled in waves, once per plan (SUBGRAPH_BATCHING)        fetch-batching/wave-schedule.ts
 *           the plan executed without Apollo's per-request rebuilding          plan-execution/install.ts
 *             (PLAN_EXECUTION)
 *           the answer shaped by the operation compiled once (RESULT_SHAPING)  result-shaping/install.ts
 *           data source: measured, caller claims, client headers, trace;       subgraph-fetch/data-source.ts
 *             one request per subgraph per wave, representations once          fetch-batching/request-batcher.ts
 *             a failed fetch becomes null fields with SUBGRAPH_* errors        subgraph-fetch/failed-fetch.ts
 *           fetch layers (subgraphFetcher below): dedup, resilience            subgraph-fetch/
 *             (timeout, circuit breaker, query retries in a budget), signing, transport
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { Fetcher } from '@apollo/utils.fetcher';
import type { Logger } from '@shop/observability';
import type { RequestHandler } from '@shop/service-kit';
import { execute } from './apollo/execute.ts';
import { errorMasking } from './apollo/error-masking.ts';
import { operationResolution } from './apollo/operation-resolution.ts';
import { authenticate, type Authenticator } from './auth/authenticate.ts';
import { DEFAULT_COST_LIMIT, type GatewayConfig } from './config.ts';
import type { GatewayContext } from './context.ts';
import { identifyClient } from './edge/client.ts';
import { cors } from './edge/cors.ts';
import { deadline } from './edge/deadline.ts';
import { documentPolicy } from './edge/document-policy.ts';
import { explorer, type ExplorerAssets } from './edge/explorer.ts';
import { limitFailedCredentials, rateLimitByAddress, rateLimitByClient, type RateLimiter } from './edge/rate-limit.ts';
import { readBody } from './edge/read-body.ts';
import { clientIpOf, requestIdOf } from './edge/request-meta.ts';
import { respond } from './edge/respond.ts';
import type { Encoder } from './edge/response-encoding.ts';
import { runStages, type Stage } from './exchange.ts';
import type { Admission } from './limits/admission.ts';
import type { CostDirectives } from './limits/cost-estimate.ts';
import { costLimit } from './limits/cost-limit.ts';
import { operationLimits } from './limits/operation-limits.ts';
import type { PersistedRegistry } from './persisted/registry.ts';
import type { OperationRecorder } from './recording/operation-recorder.ts';
import type { inboundDedup } from './sharing/inbound-dedup.ts';
import type { OperationKinds } from './sharing/operation-kinds.ts';
import type { responseCache } from './sharing/response-cache.ts';
import { fetcherThrough } from './subgraph-fetch/fetcher.ts';
import type { ResilientFetches } from './subgraph-fetch/resilience.ts';
import { signRequests } from './subgraph-fetch/signing.ts';
import { dedupSubgraphFetches } from './subgraph-fetch/subgraph-dedup.ts';
import type { GatewayTelemetry } from './telemetry/gateway-telemetry.ts';

/** Lists without a slicing argument or @listSize are assumed this long when estimating cost. */
const DEFAULT_LIST_SIZE = 10;

/** The components the stages use, built once per gateway from the configuration (server.ts). */
export interface GatewayParts {
  config: GatewayConfig;
  logger: Logger;
  telemetry: GatewayTelemetry;
  authenticator: Authenticator;
  registry: PersistedRegistry;
  rateLimiter: RateLimiter;
  /** Which documents are queries; present when inbound dedup or the response cache is on. */
  operationKinds: OperationKinds | null;
  inboundDedup: ReturnType<typeof inboundDedup> | null;
  responseCache: ReturnType<typeof responseCache> | null;
  admission: Admission;
  /** Which documents each client executes, for schema:check; null when OPERATION_RECORDING=off. */
  operationRecorder: OperationRecorder | null;
  /** The bytes of each answer: shared by deduplicated requests, compressed if configured. */
  encoder: Encoder | null;
  /** The explorer's page and files, when EXPLORER is on. */
  explorerAssets: (() => Promise<ExplorerAssets>) | null;
}

/** The HTTP stages of /graphql, in order, the last one answering through `apollo`. */
export function requestStages(parts: GatewayParts, apollo: Parameters<typeof execute>[0]): Stage[] {
  const { config, telemetry, logger } = parts;
  return [
    respond({ encode: parts.encoder ?? undefined }),
    cors(config.CORS_ORIGINS),
    deadline(config.REQUEST_TIMEOUT_MS),
    rateLimitByAddress(parts.rateLimiter),
    // A browser's page load is answered here, counted per address like any request, before GraphQL reads anything.
    ...(parts.explorerAssets ? [explorer(parts.explorerAssets)] : []),
    readBody({ maxBodyBytes: config.MAX_BODY_BYTES, maxVariablesDepth: config.MAX_VARIABLES_DEPTH }),
    limitFailedCredentials(parts.rateLimiter),
    authenticate(parts.authenticator),
    identifyClient(parts.registry, { policy: config.PQ_DEFAULT_POLICY, manifestsOf: config.PQ_DEFAULT_CLIENT ?? null }),
    rateLimitByClient(parts.rateLimiter),
    documentPolicy(parts.registry, {
      logger,
      onUnlisted: (client) => telemetry.metrics.unlistedOperations.inc({ client: telemetry.metrics.clients.value(client) }),
    }),
    operationLimits({
      maxBatchSize: config.MAX_BATCH_SIZE,
      maxTokens: config.MAX_TOKENS,
      maxDepth: config.MAX_DEPTH,
      maxAliases: config.MAX_ALIASES,
      maxRootFields: config.MAX_ROOT_FIELDS,
      maxDirectives: config.MAX_DIRECTIVES,
    }),
    // A burst of identical requests makes one cache look-up and, on a miss, one execution.
    ...(parts.inboundDedup ? [parts.inboundDedup] : []),
    ...(parts.responseCache ? [parts.responseCache] : []),
    // After the cache and dedup: answers they give never wait for an execution slot.
    parts.admission,
    execute(apollo),
  ];
}

/** The /graphql route: stage 0 (telemetry) around the stages, given a new exchange per request. */
export function graphqlRoute(parts: GatewayParts, stages: readonly Stage[]): RequestHandler {
  const run = runStages(stages);
  return parts.telemetry.traced(async (req, res) => {
    const requestId = requestIdOf(req);
    await run({ req, res, requestId, clientAddress: clientIpOf(req, parts.config.TRUST_PROXY), responseHeaders: { 'x-request-id': requestId } });
  });
}

/** Apollo Server's plugins inside stage 15, in the order Apollo calls them. */
export function apolloPlugins(parts: GatewayParts, costDirectives: () => CostDirectives): ApolloServerPlugin<GatewayContext>[] {
  const { config, telemetry } = parts;
  return [
    // Apollo's own landing pages load from Apollo's CDN; browsers get the explorer stage's page instead, or none.
    ApolloServerPluginLandingPageDisabled(),
    // First: an operation that does not resolve (an operationName naming none, a subscription) is the client's 400, before anything costs or plans it.
    operationResolution<GatewayContext>(),
    // Operation name and type on the request span; request metrics per operation and client.
    telemetry.plugin,
    // Which documents are queries, for inbound dedup and the response cache.
    ...(parts.operationKinds ? [parts.operationKinds.plugin<GatewayContext>()] : []),
    // Which client executes which document (counts aggregated in memory, flushed in the background): schema:check names whom a change breaks.
    // After resolution, so only valid operations that will run are recorded.
    ...(parts.operationRecorder ? [parts.operationRecorder.plugin()] : []),
    // Demand control: the operation's estimated cost, measured; refused over the limit before planning where one is enforced.
    costLimit({
      limit: config.COST_LIMIT,
      defaultLimit: DEFAULT_COST_LIMIT,
      mode: config.COST_MODE,
      defaultListSize: DEFAULT_LIST_SIZE,
      directives: costDirectives,
      logger: parts.logger,
      onCost: (cost, operationName, enforced) =>
        telemetry.metrics.operationCost.observe({ operation: telemetry.metrics.operations.value(operationName), enforced: String(enforced) }, cost),
    }),
    // The request id on every error; internal details masked in production.
    errorMasking(config.NODE_ENV === 'production'),
  ];
}

/** The layers every subgraph HTTP call goes through after its data source, outermost first. */
export function subgraphFetcher(config: GatewayConfig, transport: Fetcher, resilience: ResilientFetches): Fetcher {
  return fetcherThrough(
    [
      // Identical in-flight query fetches (same subgraph, body and caller) go out once; not while
      // the subgraph's circuit is open or probing, so no caller waits on the probe of a hung subgraph.
      ...(config.SUBGRAPH_DEDUP ? [(next: Fetcher) => dedupSubgraphFetches(next, resilience.isClosed)] : []),
      // Per subgraph: a timeout per attempt, a circuit breaker, retries of queries within a budget.
      // After dedup, so callers sharing a fetch share its retries and its failure; before signing, so each attempt has its own token.
      resilience.layer,
      // A token per request from the gateway's own key, bound to the subgraph, path, body and a nonce: subgraphs answer only the gateway.
      signRequests({ privateKey: config.INTERNAL_SIGNING_KEY, keyId: config.INTERNAL_SIGNING_KEY_ID }),
    ],
    transport,
  );
}
