import { ApolloGateway } from '@apollo/gateway';
import type { Fetcher } from '@apollo/utils.fetcher';
import type { Logger } from '@shop/observability';
import { authorizingGateway } from '../auth/authorization/authorizing-gateway.ts';
import { declareEnforcedSecurityFeatures } from '../auth/authorization/requirements.ts';
import type { GatewayConfig } from '../config.ts';
import { correctingGateway } from '../correctness/correcting-gateway.ts';
import { scheduleQueryPlans } from '../fetch-batching/scheduling-planner.ts';
import { installPlanExecution } from '../plan-execution/install.ts';
import { installResultShaping, shapingGateway } from '../result-shaping/install.ts';
import { resolvableKeysFirst } from '../correctness/resolvable-keys-first.ts';
import { costDirectivesFromSupergraph, type CostDirectives } from '../limits/cost-estimate.ts';
import { SubgraphDataSource } from '../subgraph-fetch/data-source.ts';
import { fileSupergraph } from '../supergraph/file-supergraph.ts';
import type { GatewayTelemetry } from '../telemetry/gateway-telemetry.ts';

export interface FederatedGateway {
  /** @apollo/gateway behind the authorization of `@authenticated` and `@requiresScopes`, as Apollo Server takes it. */
  gateway: ReturnType<typeof authorizingGateway>;
  /** The `@cost`/`@listSize` of the supergraph served now (hot reloads included). */
  costDirectives(): CostDirectives;
  /** Id of the supergraph served now; null until one has loaded. */
  supergraphId(): string | null;
  /** The subgraphs of the supergraphs loaded so far. */
  subgraphNames(): ReadonlySet<string>;
}

/**
 * @apollo/gateway on the supergraph file (hot-reloaded; a broken file is refused and the last
 * good one keeps serving), planning each operation and fetching from each subgraph through
 * `fetcher`, with authorization and the correctness stage in front of its executor.
 */
export function federatedGateway(config: GatewayConfig, deps: { logger: Logger; telemetry: GatewayTelemetry; fetcher: Fetcher }): FederatedGateway {
  let loadedId: string | null = null;
  const subgraphNames = new Set<string>();
  let costDirectives: CostDirectives = { weights: new Map(), listSizes: new Map() };
  const gateway = new ApolloGateway({
    supergraphSdl: fileSupergraph({
      path: config.SUPERGRAPH_PATH,
      pollMs: config.SUPERGRAPH_POLL_MS,
      logger: deps.logger,
      // Keys reordered for the planner's re-entry into a subgraph (pattern 3 of the correctness stage); a no-op for the shop.
      transform: (sdl) => resolvableKeysFirst(declareEnforcedSecurityFeatures(sdl)),
      onLoaded: (id) => {
        loadedId = id;
      },
    }),
    // Validate every supergraph, also in production: a broken file must be rejected, not half-served.
    validateSupergraph: true,
    logger: deps.logger,
    experimental_didResolveQueryPlan: deps.telemetry.didResolveQueryPlan,
    experimental_approximateQueryPlanStoreMiB: config.QUERY_PLAN_CACHE_MB,
    buildService: ({ name, url }) => {
      subgraphNames.add(name);
      return new SubgraphDataSource({
        name,
        url: config.subgraphUrlOverrides[name] ?? url,
        fetcher: deps.fetcher,
        telemetry: deps.telemetry.fetch,
        batching: config.SUBGRAPH_BATCHING,
      });
    },
  });
  // Before the first load: plans are scheduled in waves from the first one built.
  if (config.SUBGRAPH_BATCHING) scheduleQueryPlans(gateway, deps.logger);
  // Each answer shaped by the operation compiled once, instead of Apollo's walk through its own objects.
  installResultShaping(config.RESULT_SHAPING);
  // Each plan executed without rebuilding the operation's objects and trace nodes per request.
  installPlanExecution(config.PLAN_EXECUTION);
  // Authorization first (it removes fields), then the correctness stage on what is left, then Apollo's planner.
  const authorizing = authorizingGateway(correctingGateway(shapingGateway(gateway)));
  authorizing.track();
  gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    costDirectives = costDirectivesFromSupergraph(coreSupergraphSdl);
  });
  return { gateway: authorizing, costDirectives: () => costDirectives, supergraphId: () => loadedId, subgraphNames: () => subgraphNames };
}
