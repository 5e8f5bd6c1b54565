import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { GatewayContext } from '../context.ts';
import { estimateCost, type CostDirectives } from '../limits/cost.ts';

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
export function costPlugin(options: CostOptions): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operationName, request, schema, contextValue }) {
          const cost = estimateCost(schema, document, operationName, request.variables ?? {}, options.directives(), options.defaultListSize);
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
