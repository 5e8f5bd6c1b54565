import type { ApolloGateway } from '@apollo/gateway';
import type { QueryPlanner } from '@apollo/query-planner';
import type { Logger } from '@shop/observability';
import { scheduleInWaves } from './wave-schedule.ts';

const scheduled = new WeakSet<QueryPlanner>();

/**
 * Every query plan @apollo/gateway builds is scheduled in waves (wave-schedule.ts) before Apollo
 * caches it, so the work is done once per operation and the plan cache, the executor, traces
 * and `npm run explain` all see the scheduled plan. Apollo makes a new planner per supergraph
 * load and offers no hook into planning: the planner it made is wrapped when it announces the
 * load, before any operation is planned with it. (Apollo's packages are pinned exactly; a test
 * fails if the planner is no longer where this looks for it.)
 */
export function scheduleQueryPlans(gateway: ApolloGateway, logger: Logger): void {
  gateway.onSchemaLoadOrUpdate(() => {
    const planner = (gateway as unknown as { queryPlanner?: QueryPlanner }).queryPlanner;
    if (!planner || typeof planner.buildQueryPlan !== 'function') {
      logger.error('query plans are not scheduled in waves: @apollo/gateway keeps its planner elsewhere in this version (SUBGRAPH_BATCHING still batches)');
      return;
    }
    if (scheduled.has(planner)) return;
    scheduled.add(planner);
    const build = planner.buildQueryPlan.bind(planner);
    planner.buildQueryPlan = (operation, options) => {
      const plan = build(operation, options);
      // Mutations run their fields in order, one after the other: never moved, never merged.
      return operation.rootKind === 'query' ? scheduleInWaves(plan) : plan;
    };
  });
}
