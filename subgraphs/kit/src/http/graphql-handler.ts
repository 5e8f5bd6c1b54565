import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext, type ContextFunction } from '@apollo/server';
import { HttpError, sendHttpError } from './errors.ts';
import { readJsonBody } from './read-body.ts';

export interface GraphQLHandlerOptions<Ctx extends BaseContext> {
  context: ContextFunction<[{ req: IncomingMessage }], Ctx>;
  /** Largest accepted request body in bytes. */
  maxBodyBytes: number;
  /**
   * Turns a complete answer into the bytes to send (compressed when `encoding` is set), or
   * returns null to send the string as is. Given the body object, so an answer shared by
   * several requests is encoded once.
   */
  encode?: (acceptEncoding: string | undefined, body: { string: string }) => Promise<{ encoding?: string; data: Buffer } | null>;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * Bridges node:http to Apollo Server's transport-neutral executeHTTPGraphQLRequest.
 * Written here rather than taken from an Express/Fastify integration because the
 * services need nothing else from a framework and this sits on every request's hot path.
 */
export function createGraphQLHandler<Ctx extends BaseContext>(
  // Only this method is used, so a gateway can put caching or deduplication in front of it.
  server: Pick<ApolloServer<Ctx>, 'executeHTTPGraphQLRequest'>,
  options: GraphQLHandlerOptions<Ctx>,
): RequestHandler {
  return async (req, res) => {
    let body: unknown;
    try {
      if (req.method === 'POST') {
        const contentType = req.headers['content-type'] ?? '';
        if (!/^application\/(graphql-response\+)?json\b/i.test(contentType)) {
          req.resume();
          throw new HttpError(
            415,
            'UNSUPPORTED_MEDIA_TYPE',
            'POST requests must have the content type application/json.',
          );
        }
        body = await readJsonBody(req, options.maxBodyBytes);
      }
    } catch (error) {
      if (error instanceof HttpError) return sendHttpError(res, error);
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
        body,
      },
      context: () => options.context({ req }),
    });

    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      const encoded = options.encode ? await options.encode(req.headers['accept-encoding'], response.body) : null;
      if (encoded) {
        if (encoded.encoding) {
          res.setHeader('content-encoding', encoded.encoding);
          res.setHeader('vary', 'accept-encoding');
        }
        res.end(encoded.data);
        return;
      }
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
}
