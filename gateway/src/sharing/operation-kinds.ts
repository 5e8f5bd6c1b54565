import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { OperationTypeNode } from 'graphql';
import { LRUCache } from 'lru-cache';
import { documentKey } from './request-key.ts';

/**
 * Which documents (and operation names) are queries, learned from Apollo's own parse of each
 * request. The HTTP layer must know an operation is a query before it shares or caches an
 * answer, and must not parse every request a second time to find out: a document it has not
 * seen yet is simply executed normally once.
 */
export class OperationKinds {
  private readonly kinds = new LRUCache<string, OperationTypeNode>({ max: 10_000 });

  isQuery(docKey: string): boolean {
    return this.kinds.get(docKey) === 'query';
  }

  plugin<Ctx extends BaseContext>(): ApolloServerPlugin<Ctx> {
    const kinds = this.kinds;
    return {
      async requestDidStart() {
        return {
          async didResolveOperation({ request, operation }) {
            const key = documentKey(request.query, request.extensions, request.operationName);
            if (key !== null && operation) kinds.set(key, operation.operation);
          },
        };
      },
    };
  }
}
