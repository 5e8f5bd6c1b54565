import { createHash } from 'node:crypto';
import type { ApolloGateway } from '@apollo/gateway';
import { GraphQLError, print, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { GatewayContext } from '../../context.ts';
import type { GatewayLike } from '../../correctness/correcting-gateway.ts';
import { filterOperation, insertNulls, type FilteredOperation } from './filter-operation.ts';
import { requirementsFromSupergraph, type AuthzRequirements, type Principal } from './requirements.ts';

type Executor = NonNullable<Awaited<ReturnType<ApolloGateway['load']>>['executor']>;
type RequestContext = Parameters<Executor>[0];

/** Decisions are a function of the document and the caller's grants: cache them. */
const DECISION_CACHE_SIZE = 2000;

/**
 * Wraps @apollo/gateway so that `@authenticated` and `@requiresScopes` are enforced before
 * planning, as Apollo Router does (plain @apollo/gateway ignores them): fields the caller may
 * not see are removed from the operation, answered as null with an UNAUTHORIZED error each,
 * and the rest of the response is served.
 */
export function authorizingGateway(gateway: GatewayLike) {
  let apiSchema: GraphQLSchema | undefined;
  let requirements: AuthzRequirements = { authenticated: new Set(), scopes: new Map(), any: false };
  const decisions = new Map<string, FilteredOperation | null>();

  const decide = (document: DocumentNode, queryHash: string, operationName: string | null | undefined, principal: Principal) => {
    const key = `${queryHash}:${operationName ?? ''}:${principal.authenticated ? 1 : 0}:${[...principal.scopes].sort().join(' ')}`;
    if (decisions.has(key)) return decisions.get(key)!;
    const decision = apiSchema ? filterOperation(apiSchema, document, operationName, requirements, principal) : null;
    if (decisions.size >= DECISION_CACHE_SIZE) decisions.delete(decisions.keys().next().value!);
    decisions.set(key, decision);
    return decision;
  };

  const wrap = (execute: Executor): Executor =>
    async (requestContext: RequestContext) => {
      if (!requirements.any) return execute(requestContext);
      const { caller } = requestContext.context as unknown as GatewayContext;
      const principal: Principal = { authenticated: caller.userId !== null || caller.clientId !== null, scopes: new Set(caller.scopes) };
      const decision = decide(requestContext.document, requestContext.queryHash, requestContext.request.operationName, principal);
      if (!decision) return execute(requestContext);

      const errors = decision.denied.map(
        (denied) =>
          new GraphQLError(`Unauthorized field ${denied.coordinate}: it ${denied.reason}.`, {
            path: denied.path.map((segment) => (segment === '@' ? '@' : segment)),
            extensions: { code: 'UNAUTHORIZED', coordinate: denied.coordinate },
          }),
      );
      if (!decision.document) return { data: null, errors };
      const text = print(decision.document);
      const result = await execute({
        ...requestContext,
        document: decision.document,
        queryHash: createHash('sha256').update(text).digest('hex'),
      } as RequestContext);
      if (result.data) insertNulls(result.data as Record<string, unknown>, decision.nullPaths);
      return { ...result, errors: [...errors, ...(result.errors ?? [])] };
    };

  return {
    async load(options: Parameters<ApolloGateway['load']>[0]) {
      const loaded = await gateway.load(options);
      return { ...loaded, executor: loaded.executor ? wrap(loaded.executor) : loaded.executor };
    },
    onSchemaLoadOrUpdate(callback: Parameters<ApolloGateway['onSchemaLoadOrUpdate']>[0]) {
      return gateway.onSchemaLoadOrUpdate(callback);
    },
    stop: () => gateway.stop(),
    /** Keeps the requirements in step with the served supergraph (hot reloads included). */
    track(): () => void {
      return gateway.onSchemaLoadOrUpdate(({ apiSchema: schema, coreSupergraphSdl }) => {
        apiSchema = schema;
        requirements = requirementsFromSupergraph(coreSupergraphSdl);
        decisions.clear();
      });
    },
  };
}
