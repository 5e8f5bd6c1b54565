import type { ApolloServerPlugin, BaseContext, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { getOperationAST } from 'graphql';
import { tracer } from './http-tracing.ts';
import { outcomeOf } from './metrics.ts';
import { currentScope, now, type CallEvent, type RequestScope } from './request-scope.ts';

/** What `extensions.callReport` holds: the gateway's adds the plan and the totals. */
export interface CallReport {
  operation: string | null;
  queryPlan?: string;
  /** The plan's waves when it was scheduled in waves: per wave, subgraph → the plan's fetches to it. */
  waves?: Array<Record<string, number>>;
  /** subgraphFetches are HTTP requests; planFetches the query plan's fetches they carried (more when batched). */
  totals?: { subgraphFetches: number; planFetches: number; dataLoaderBatches: number; sqlStatements: number; durationMs: number };
  calls: CallEvent[];
}

/** Where the gateway puts the pretty-printed query plan of a request that asked for a call report. */
export const queryPlans = new WeakMap<RequestScope, string>();
/** And the waves of that plan, when it was scheduled in waves. */
export const queryPlanWaves = new WeakMap<RequestScope, Array<Record<string, number>>>();

function endWith(span: Span) {
  return async (error?: unknown) => {
    if (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  };
}

/**
 * The per-request telemetry of a GraphQL service: names the request span after the operation
 * (OpenTelemetry's GraphQL conventions), adds parse and validate spans, records the RED metrics,
 * and, when asked for in development, returns the call report in `extensions`.
 */
export function graphqlTelemetryPlugin<Ctx extends BaseContext>(role: 'gateway' | 'subgraph'): ApolloServerPlugin<Ctx> {
  return {
    async requestDidStart({ request, contextValue }) {
      const scope = currentScope();
      const span = trace.getActiveSpan();
      // The gateway's context knows the id of a trusted document (already swapped for its text)
      // and the registered client; an APQ hash is still in the request.
      const known = contextValue as { persistedQueryId?: unknown; client?: { name?: unknown } };
      const persisted = (request.extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery;
      const persistedId =
        typeof persisted?.sha256Hash === 'string' ? persisted.sha256Hash : typeof known.persistedQueryId === 'string' ? known.persistedQueryId : undefined;
      if (role === 'gateway' && scope && typeof known.client?.name === 'string') scope.client = scope.metrics.clients.value(known.client.name);
      if (persistedId) span?.setAttribute('graphql.persisted_query.id', persistedId);
      const sentQuery = Boolean(request.query);
      let codes: unknown[] = [];

      return {
        async parsingDidStart() {
          return endWith(tracer.startSpan('graphql.parse'));
        },
        async validationDidStart({ document }) {
          // Label by the operation's name from here on, so that a request failing validation is
          // counted under its operation too (didResolveOperation is never reached for it).
          if (role === 'gateway' && scope) scope.operation = scope.metrics.operations.value(getOperationAST(document, request.operationName)?.name?.value);
          return endWith(tracer.startSpan('graphql.validate'));
        },
        async didResolveSource() {
          // A hash alone that resolved to a document was served from the persisted query cache.
          if (role === 'gateway' && persistedId && !sentQuery) scope?.metrics.cacheLookups.inc({ cache: 'persisted_query', result: 'hit' });
        },
        async didResolveOperation({ operationName, operation }) {
          const type = operation?.operation ?? 'query';
          span?.updateName(operationName ? `${type} ${operationName}` : type);
          span?.setAttributes({ 'graphql.operation.type': type, ...(operationName ? { 'graphql.operation.name': operationName } : {}) });
          // Subgraphs label by the client's operation (from the gateway's baggage), not the plan's fetch names.
          if (role === 'gateway' && scope) scope.operation = scope.metrics.operations.value(operationName);
        },
        async didEncounterErrors({ errors }) {
          codes = errors.map((error) => error.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
          if (codes.includes('PERSISTED_QUERY_NOT_FOUND')) scope?.metrics.cacheLookups.inc({ cache: 'persisted_query', result: 'miss' });
          span?.setStatus({ code: SpanStatusCode.ERROR, message: errors[0]?.message });
        },
        async willSendResponse(context) {
          if (!scope) return;
          scope.counted = true;
          const labels = { operation: scope.operation, client: scope.client };
          const outcome = outcomeOf(codes);
          scope.metrics.requests.inc({ ...labels, outcome });
          scope.metrics.requestDuration.observe(labels, (now() - scope.startedAt) / 1000);
          if (role === 'subgraph') scope.metrics.sqlStatements.observe({ operation: scope.operation }, scope.sqlStatements);
          if (scope.report) attachReport(context, scope, role);
        },
      };
    },
  };
}

function attachReport<Ctx extends BaseContext>(
  context: GraphQLRequestContextWillSendResponse<Ctx>,
  scope: RequestScope,
  role: 'gateway' | 'subgraph',
): void {
  const body = context.response.body;
  if (body.kind !== 'single') return;
  const calls = [...(scope.report ?? [])].sort((a, b) => a.startMs - b.startMs);
  const report: CallReport =
    role === 'gateway'
      ? {
          operation: context.operationName ?? null,
          queryPlan: queryPlans.get(scope),
          ...(queryPlanWaves.has(scope) ? { waves: queryPlanWaves.get(scope) } : {}),
          totals: {
            subgraphFetches: calls.filter((c) => c.kind === 'fetch').length,
            planFetches: calls.reduce((n, c) => n + (c.kind === 'fetch' ? (c.fetches ?? 1) : 0), 0),
            dataLoaderBatches: calls.filter((c) => c.kind === 'batch').length,
            sqlStatements: calls.filter((c) => c.kind === 'sql').length,
            durationMs: Math.round((now() - scope.startedAt) * 100) / 100,
          },
          calls,
        }
      : { operation: context.operationName ?? null, calls };
  body.singleResult.extensions = { ...body.singleResult.extensions, callReport: report };
  // The report (query plan, SQL text) is for the developer who asked: no HTTP cache on the way may keep it.
  context.response.http.headers.set('cache-control', 'no-store');
}
