import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { HttpError, sendHttpError, sendJson } from './errors.ts';
import { parseJsonBody, readBody } from './read-body.ts';

/** What a service decides about a request before GraphQL sees it. */
export interface PreparedRequest<Ctx> {
  context: Ctx;
  /** The body to execute. */
  body: unknown;
}

export interface GraphQLHandlerOptions<Ctx extends BaseContext> {
  /**
   * Authenticates and inspects the request; throw an HttpError or a GraphQLError with
   * `extensions.http.status` to refuse it. `rawBody` is the exact bytes received, for signatures.
   */
  prepare(request: { req: IncomingMessage; rawBody: string; body: unknown }): Promise<PreparedRequest<Ctx>>;
  /** Largest accepted request body in bytes. */
  maxBodyBytes: number;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * Bridges node:http to Apollo Server's transport-neutral executeHTTPGraphQLRequest for a
 * subgraph. Written here rather than taken from an Express/Fastify integration because the
 * services need nothing else from a framework and this sits on every request's hot path. (The
 * gateway has its own request pipeline: gateway/src/pipeline.ts.)
 */
export function createGraphQLHandler<Ctx extends BaseContext>(
  server: Pick<ApolloServer<Ctx>, 'executeHTTPGraphQLRequest'>,
  options: GraphQLHandlerOptions<Ctx>,
): RequestHandler {
  return async (req, res) => {
    let prepared: PreparedRequest<Ctx>;
    try {
      let rawBody = '';
      if (req.method === 'POST') {
        const contentType = req.headers['content-type'] ?? '';
        if (!/^application\/(graphql-response\+)?json\b/i.test(contentType)) {
          req.resume();
          throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'POST requests must have the content type application/json.');
        }
        rawBody = await readBody(req, options.maxBodyBytes);
      }
      prepared = await options.prepare({ req, rawBody, body: parseJsonBody(rawBody) });
    } catch (error) {
      if (error instanceof HttpError) return sendHttpError(res, error);
      if (error instanceof GraphQLError) return sendGraphQLError(res, error);
      throw error;
    }

    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const url = req.url ?? '/';
    const queryStart = url.indexOf('?');
    const response = await server.executeHTTPGraphQLRequest({
      httpGraphQLRequest: {
        method: (req.method ?? 'GET').toUpperCase(),
        headers,
        search: queryStart === -1 ? '' : url.slice(queryStart),
        body: prepared.body,
      },
      context: async () => prepared.context,
    });

    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
}

/** A refusal decided before execution, in the GraphQL-over-HTTP error shape. */
function sendGraphQLError(res: ServerResponse, error: GraphQLError): void {
  const http = error.extensions.http as { status?: number; headers?: Record<string, string> } | undefined;
  const { http: _http, ...extensions } = error.extensions;
  sendJson(res, http?.status ?? 400, { errors: [{ message: error.message, extensions }] }, http?.headers ?? {});
}
