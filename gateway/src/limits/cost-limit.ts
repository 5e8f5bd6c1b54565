import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { Logger } from '@shop/observability';
import type { GatewayContext } from '../context.ts';
import { estimateCost, operationVariables, type CostDirectives } from './cost-estimate.ts';

export interface CostOptions {
  /** COST_LIMIT as configured; undefined: `defaultLimit`, enforced only on an annotated supergraph (auto). */
  limit: number | undefined;
  defaultLimit: number;
  mode: 'auto' | 'enforce' | 'measure';
  defaultListSize: number;
  directives: () => CostDirectives;
  logger: Logger;
  /** Every operation's estimated cost, and whether a limit was enforced on it (the metric operators pick a limit from). */
  onCost?: (cost: number, operationName: string | null, enforced: boolean) => void;
}

/** Whether the supergraph says anything about cost: without it, list sizes are the default's guess. */
export function annotated(directives: CostDirectives): boolean {
  return directives.weights.size > 0 || directives.listSizes.size > 0;
}

/** The limit refused operations are held to under these directives, or null when costs are only measured. */
export function enforcedLimit(options: Pick<CostOptions, 'limit' | 'defaultLimit' | 'mode'>, directives: CostDirectives): number | null {
  if (options.mode === 'measure') return null;
  if (options.mode === 'enforce' || options.limit !== undefined || annotated(directives)) return options.limit ?? options.defaultLimit;
  return null;
}

/**
 * Demand control: the static cost of each operation from the supergraph's `@cost` and
 * `@listSize`, computed once the operation is known and before it is planned. Refused over the
 * limit where one is enforced (`enforcedLimit`); otherwise only measured: a supergraph without
 * annotations prices every list at the default size, and a limit on that guess refused the
 * reference benchmark's legitimate query (24,420 over 10,000). Measured costs over the default
 * limit are logged once per operation and variables, so operators see what a limit would refuse.
 */
export function costLimit(options: CostOptions): ApolloServerPlugin<GatewayContext> {
  // Apollo hands out one parsed document per distinct text (its document cache), so the cost of
  // a (document, operation, variables, supergraph) is computed once, not on every request.
  const costs = new WeakMap<DocumentNode, Map<string, { directives: CostDirectives; cost: number }>>();
  const costOf = (
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode | undefined,
    operationName: string | null,
    variables: Record<string, unknown>,
  ) => {
    const directives = options.directives();
    const key = `${operationName ?? ''}\n${JSON.stringify(variables)}`;
    let perDocument = costs.get(document);
    const known = perDocument?.get(key);
    if (known && known.directives === directives) return known.cost;
    // Costed as it will run: an operation's own defaults size its lists as much as sent values do.
    const values = operationVariables(schema, operation, variables);
    const cost = estimateCost(schema, document, operationName, values, directives, options.defaultListSize);
    if (enforcedLimit(options, directives) === null && cost > options.defaultLimit) {
      options.logger.info(
        { operationName, cost, defaultLimit: options.defaultLimit },
        'operation over the default cost limit, not refused: the supergraph has no @cost/@listSize and COST_LIMIT is unset',
      );
    }
    if (!perDocument) costs.set(document, (perDocument = new Map()));
    // Bounded: a document used with ever new variables keeps only its latest hundred costs.
    if (perDocument.size >= 100) perDocument.delete(perDocument.keys().next().value!);
    perDocument.set(key, { directives, cost });
    return cost;
  };
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, operationName, request, schema, contextValue }) {
          const cost = costOf(schema, document, operation, operationName, request.variables ?? {});
          contextValue.cost = cost;
          const limit = enforcedLimit(options, options.directives());
          options.onCost?.(cost, operationName, limit !== null);
          if (limit !== null && cost > limit) {
            throw new GraphQLError(
              `The operation's estimated cost ${cost} is over the limit of ${limit}: ask for smaller pages (e.g. a lower "first") or fewer nested lists.`,
              { extensions: { code: 'COST_LIMIT_EXCEEDED', cost, limit, http: { status: 400 } } },
            );
          }
        },
      };
    },
  };
}
