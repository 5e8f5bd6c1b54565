import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError, Kind } from 'graphql';

/**
 * A request whose `operationName` names no operation in its document, or that names none for a
 * document holding several, is the client's mistake: 400 OPERATION_RESOLUTION_FAILURE, as
 * Apollo Server answers without a gateway. With a gateway, Apollo leaves the request to
 * @apollo/gateway's executor, which throws INVALID_GRAPHQL and Apollo turns that into a 500.
 * This plugin refuses it first, before any other plugin costs or plans it.
 *
 * The same for an operation whose type the schema has no root for (a subscription: the shop has
 * none): graphql-js validation lets it through, and only the gateway's planner throws.
 */
export function operationResolution<Ctx extends BaseContext>(): ApolloServerPlugin<Ctx> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, request, schema }) {
          if (operation) {
            if (schema.getRootType(operation.operation)) return;
            throw new GraphQLError(`The schema has no ${operation.operation} type: this gateway serves only the operation types its schema defines.`, {
              extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } },
            });
          }
          const named = typeof request.operationName === 'string' && request.operationName !== '';
          const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION).length;
          const message = named
            ? `Unknown operation named "${request.operationName}": the document's operations are the only names "operationName" may give.`
            : operations === 0
              ? 'The document holds no operation (only fragments): send a query, mutation or subscription.'
              : 'The document holds several operations: say which one to run with "operationName".';
          throw new GraphQLError(message, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } } });
        },
      };
    },
  };
}
