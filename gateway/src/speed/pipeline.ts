import type { ApolloServer, BaseContext, ContextThunk, HTTPGraphQLRequest, HTTPGraphQLResponse } from '@apollo/server';

/** One HTTP GraphQL request as Apollo Server executes it. */
export interface HttpExecution<Ctx extends BaseContext = BaseContext> {
  httpGraphQLRequest: HTTPGraphQLRequest;
  context: ContextThunk<Ctx>;
}

export type ExecuteHttp<Ctx extends BaseContext = BaseContext> = (execution: HttpExecution<Ctx>) => Promise<HTTPGraphQLResponse>;

/** A step in front of Apollo's execution that may answer without it (cache, deduplication). */
export type HttpMiddleware = <Ctx extends BaseContext>(execution: HttpExecution<Ctx>, next: ExecuteHttp<Ctx>) => Promise<HTTPGraphQLResponse>;

/**
 * Apollo Server behind `middlewares`, first one outermost, shaped like the server for the
 * node:http bridge. With no middlewares it is the server itself: nothing added to the hot path.
 */
export function withMiddlewares<Ctx extends BaseContext>(
  server: ApolloServer<Ctx>,
  middlewares: HttpMiddleware[],
): Pick<ApolloServer<Ctx>, 'executeHTTPGraphQLRequest'> {
  if (middlewares.length === 0) return server;
  let execute: ExecuteHttp<Ctx> = (execution) => server.executeHTTPGraphQLRequest(execution);
  for (const middleware of [...middlewares].reverse()) {
    const next = execute;
    execute = (execution) => middleware(execution, next);
  }
  return { executeHTTPGraphQLRequest: execute };
}
