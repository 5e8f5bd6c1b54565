import { createHash } from 'node:crypto';
import type { ApolloGateway } from '@apollo/gateway';
import { print } from 'graphql';
import { correctOperation, type Correction, type SupergraphFacts } from './operation-corrections.ts';
import { requiresConflicts, requiresIndex } from './requires-index.ts';
import { restoreErrorPaths, restoreResponseNames } from './response-aliases.ts';

/** What of @apollo/gateway Apollo Server and the wrappers around it use. */
export type GatewayLike = Pick<ApolloGateway, 'load' | 'onSchemaLoadOrUpdate' | 'stop'>;
type Executor = NonNullable<Awaited<ReturnType<ApolloGateway['load']>>['executor']>;
type RequestContext = Parameters<Executor>[0];

/** A correction with what executing it needs, worked out once: the rewritten document's hash. */
type Prepared = Exclude<Correction, { kind: 'rewritten' }> | (Extract<Correction, { kind: 'rewritten' }> & { queryHash: string });

// Apollo caches plans by the query hash: the rewritten document's plan is cached apart from the original's.
const prepared = (correction: Correction): Prepared =>
  correction.kind === 'rewritten' ? { ...correction, queryHash: createHash('sha256').update(print(correction.document)).digest('hex') } : correction;

/** Corrections are a function of the document: cached like Apollo's plans are. */
const CORRECTION_CACHE_SIZE = 2000;

/**
 * The correctness stage: in front of @apollo/gateway's planner, each operation is checked for
 * the federation patterns the planner answers wrongly (operation-corrections.ts) once per
 * document and supergraph. An operation without them (every one of the shop's) goes to Apollo
 * untouched; one with them goes rewritten, its answer given back the client's response names,
 * or is refused with QUERY_PLANNING_FAILED instead of being answered wrongly.
 */
export function correctingGateway(gateway: GatewayLike) {
  let facts: SupergraphFacts | null = null;
  const corrections = new Map<string, Prepared>();

  const correctionOf = (requestContext: RequestContext): Prepared => {
    if (!facts) return { kind: 'unchanged' };
    const key = `${requestContext.queryHash}:${requestContext.request.operationName ?? ''}`;
    let correction = corrections.get(key);
    if (!correction) {
      correction = prepared(correctOperation(facts, requestContext.document, requestContext.request.operationName));
      if (corrections.size >= CORRECTION_CACHE_SIZE) corrections.delete(corrections.keys().next().value!);
      corrections.set(key, correction);
    }
    return correction;
  };

  const wrap =
    (execute: Executor): Executor =>
    async (requestContext) => {
      const correction = correctionOf(requestContext);
      if (correction.kind === 'unchanged') return execute(requestContext);
      if (correction.kind === 'refused') return { data: null, errors: correction.errors };
      const result = await execute({
        ...requestContext,
        document: correction.document,
        queryHash: correction.queryHash,
      } as RequestContext);
      return {
        ...result,
        ...(result.data ? { data: restoreResponseNames(result.data, correction.aliases) } : {}),
        ...(result.errors ? { errors: restoreErrorPaths(result.errors, correction.aliases) } : {}),
      };
    };

  gateway.onSchemaLoadOrUpdate(({ apiSchema, coreSupergraphSdl }) => {
    const requires = requiresIndex(coreSupergraphSdl);
    facts = { schema: apiSchema, requires, conflicts: requiresConflicts(requires) };
    corrections.clear();
  });

  return {
    async load(options: Parameters<ApolloGateway['load']>[0]) {
      const loaded = await gateway.load(options);
      return { ...loaded, executor: loaded.executor ? wrap(loaded.executor) : loaded.executor };
    },
    onSchemaLoadOrUpdate: (callback: Parameters<ApolloGateway['onSchemaLoadOrUpdate']>[0]) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
  } satisfies GatewayLike;
}
