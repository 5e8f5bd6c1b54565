import type { ApolloServer } from '@apollo/server';
import type { GatewayContext } from '../context.ts';
import { established, type Exchange, type Stage } from '../exchange.ts';

/**
 * The last stage: Apollo Server parses, validates, plans and executes the operation (its plugins
 * and the subgraph fetch are listed in pipeline.ts), with what the stages before established as
 * its context.
 */
export function execute(apollo: Pick<ApolloServer<GatewayContext>, 'executeHTTPGraphQLRequest'>): Stage {
  return async (exchange) =>
    apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: established(exchange, 'request'), context: async () => contextOf(exchange) });
}

function contextOf(exchange: Exchange): GatewayContext {
  return {
    caller: established(exchange, 'caller'),
    client: established(exchange, 'client'),
    persistedQueryId: exchange.persistedQueryId ?? null,
    requestId: exchange.requestId,
    requestHeaders: exchange.req.headers,
  };
}
