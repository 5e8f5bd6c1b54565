import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';
import { context, createContextKey } from '@opentelemetry/api';
import type { GatewayExecutionResult } from '@apollo/server-gateway-interface';
import { currentScope } from '@shop/observability';
import { executeQueryPlan, needsApollosExecutor, type ExecuteQueryPlan, type ServiceMap } from './execute-plan.ts';

export type PlanExecutionMode = 'compiled' | 'apollo' | 'verify';

const require = createRequire(import.meta.url);
/** The module @apollo/gateway's executor calls `executeQueryPlan` through, at each request (index.js). */
const executionModule = require('@apollo/gateway/dist/executeQueryPlan.js') as { executeQueryPlan: ExecuteQueryPlan };
const apollosExecuteQueryPlan = executionModule.executeQueryPlan;

/** Thrown in verify mode when Apollo's executor, given the same subgraph answers, answers otherwise. */
export class PlanExecutionMismatch extends Error {}

/** @opentelemetry/core's suppressTracing key (a Symbol.for): the replay in verify mode makes no spans. */
const SUPPRESS_TRACING = createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

/** Each execution counted by executor (gateway_plan_executions_total), so a fallback to Apollo's shows. */
const counted = (executor: 'compiled' | 'apollo') => currentScope()?.metrics.planExecutions.inc({ executor });

const apollos: ExecuteQueryPlan = (...args) => {
  counted('apollo');
  return apollosExecuteQueryPlan(...args);
};

const ours: ExecuteQueryPlan = (queryPlan, serviceMap, requestContext, ...rest) => {
  if (needsApollosExecutor(queryPlan, requestContext)) return apollos(queryPlan, serviceMap, requestContext, ...rest);
  counted('compiled');
  return executeQueryPlan(queryPlan, serviceMap, requestContext, ...rest);
};

/**
 * Ours, then Apollo's executor on the same plan, fed the answers the subgraphs gave ours (recorded
 * per subgraph, query and variables, so a fetch sent otherwise finds none): the two results must
 * be the same, or the request fails. The subgraphs are called once; the replay records no spans.
 */
const verifying: ExecuteQueryPlan = async (queryPlan, serviceMap, requestContext, operationContext, ...rest) => {
  if (needsApollosExecutor(queryPlan, requestContext)) return apollos(queryPlan, serviceMap, requestContext, operationContext, ...rest);
  counted('compiled');
  const recorded = new Map<string, string[]>();
  const keyOf = (service: string, options: unknown) => {
    const { request } = options as { request: { query?: string; variables?: unknown } };
    return `${service}\n${request.query ?? ''}\n${JSON.stringify(request.variables ?? {})}`;
  };
  const recording: ServiceMap = {};
  const replaying: ServiceMap = {};
  for (const [name, source] of Object.entries(serviceMap)) {
    recording[name] = {
      process: async (options) => {
        const key = keyOf(name, options);
        const response = await source.process(options);
        // Copied before the executor merges it into the answer: the replay gets what the subgraph said.
        const answers = recorded.get(key) ?? [];
        answers.push(JSON.stringify(response));
        recorded.set(key, answers);
        return response;
      },
    };
    replaying[name] = {
      process: async (options) => {
        const answer = recorded.get(keyOf(name, options))?.shift();
        if (answer === undefined) return { errors: [{ message: `verify: ours never sent this fetch to ${name}` }] };
        return JSON.parse(answer) as Awaited<ReturnType<ServiceMap[string]['process']>>;
      },
    };
  }
  const oursResult = await executeQueryPlan(queryPlan, recording, requestContext, operationContext, ...rest);
  const metrics = requestContext.metrics as { nonFtv1ErrorPaths?: unknown[] };
  const errorPaths = metrics.nonFtv1ErrorPaths;
  const apollosResult = await context.with(context.active().setValue(SUPPRESS_TRACING, true), () =>
    apollosExecuteQueryPlan(queryPlan, replaying, requestContext, operationContext, ...rest),
  );
  metrics.nonFtv1ErrorPaths = errorPaths;
  const comparable = (result: GatewayExecutionResult) => ({
    data: JSON.parse(JSON.stringify(result.data ?? null)) as unknown,
    // In the order the fetches answered, which differs between a network and a replay: compared as a set.
    errors: (result.errors ?? []).map((e) => JSON.stringify({ message: e.message, path: e.path, extensions: e.extensions ?? {} })).sort(),
    extensions: JSON.parse(JSON.stringify(result.extensions ?? {})) as unknown,
  });
  const [oursComparable, apollosComparable] = [comparable(oursResult), comparable(apollosResult)];
  if (!isDeepStrictEqual(oursComparable, apollosComparable)) {
    throw new PlanExecutionMismatch(`plan execution differs from Apollo's ${firstDifference(oursComparable, apollosComparable, '')}`);
  }
  return oursResult;
};

/** Where two JSON values first differ, and how: for a message a person can follow. */
function firstDifference(ours: unknown, apollos: unknown, at: string): string {
  if (typeof ours === 'object' && ours !== null && typeof apollos === 'object' && apollos !== null && Array.isArray(ours) === Array.isArray(apollos)) {
    const keys = new Set([...Object.keys(ours), ...Object.keys(apollos)]);
    for (const key of keys) {
      const [a, b] = [(ours as Record<string, unknown>)[key], (apollos as Record<string, unknown>)[key]];
      if (!isDeepStrictEqual(a, b)) return firstDifference(a, b, `${at}.${key}`);
    }
    return `at ${at || '.'}: key order ${JSON.stringify(Object.keys(ours))} vs ${JSON.stringify(Object.keys(apollos))}`;
  }
  return `at ${at || '.'}: ours ${JSON.stringify(ours)?.slice(0, 300)} vs Apollo's ${JSON.stringify(apollos)?.slice(0, 300)}`;
}

/**
 * Apollo's executeQueryPlan rebuilds the operation's federation-internals objects and a usage
 * trace node per plan node on every request, and walks entity paths by copying them: 16% of the
 * gateway's CPU under the bench's load, plus garbage. PLAN_EXECUTION=compiled (the default) runs
 * execute-plan.ts, which does the same work without that cost; `verify` also replays the same
 * subgraph answers through Apollo's executor and fails a request whose results differ (the test
 * suite runs so: vitest.config.ts); `apollo` leaves Apollo's. One mode per process; `verify` in
 * the environment wins.
 */
export function installPlanExecution(configured: PlanExecutionMode): void {
  const mode = process.env.PLAN_EXECUTION === 'verify' ? 'verify' : configured;
  executionModule.executeQueryPlan = mode === 'apollo' ? apollos : mode === 'verify' ? verifying : ours;
}
