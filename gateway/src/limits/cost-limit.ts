import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { GatewayContext } from '../context.ts';
import { estimateCost, operationVariables, type CostDirectives } from './cost-estimate.ts';

export interface CostOptions {
  limit: number;
  mode: 'enforce' | 'measure';
  defaultListSize: number;
  directives: () => CostDirectives;
}

/**
 * Demand control: the static cost of each operation from the supergraph's `@cost` and
 * `@listSize`, computed once the operation is known and before it is planned. `enforce`
 * refuses operations over the limit; `measure` only reports their cost.
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
          if (options.mode === 'enforce' && cost > options.limit) {
            throw new GraphQLError(
              `The operation's estimated cost ${cost} is over the limit of ${options.limit}: ask for smaller pages (e.g. a lower "first") or fewer nested lists.`,
              { extensions: { code: 'COST_LIMIT_EXCEEDED', cost, limit: options.limit, http: { status: 400 } } },
            );
          }
        },
      };
    },
  };
}
