import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { HeaderMap, type HTTPGraphQLResponse } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../src/auth/authenticate.ts';
import { cors } from '../src/edge/cors.ts';
import { deadline } from '../src/edge/deadline.ts';
import { readBody } from '../src/edge/read-body.ts';
import { refusalOf } from '../src/edge/respond.ts';
import { established, runStages, type Exchange, type Next, type Stage } from '../src/exchange.ts';
import { operationLimits } from '../src/limits/operation-limits.ts';

// Each stage on its own, with a request the test makes; the integration tests run them all
// together through the real gateway over HTTP.

function exchangeFor(req: { method?: string; url?: string; headers?: Record<string, string>; body?: string }): Exchange {
  const incoming = Object.assign(Readable.from(req.body === undefined ? [] : [Buffer.from(req.body)]), {
    method: req.method ?? 'POST',
    url: req.url ?? '/graphql',
    headers: { 'content-type': 'application/json', ...req.headers },
    socket: { remoteAddress: '127.0.0.1' },
  }) as unknown as IncomingMessage;
  const headers: Record<string, string> = {};
  const res = { setHeader: (key: string, value: string) => (headers[key] = value), headers } as unknown as ServerResponse;
  return { req: incoming, res, requestId: 'r1', clientAddress: '127.0.0.1', responseHeaders: {} };
}

/** The rest of the pipeline, answering 200. */
const answer: Next = async () => ({ status: 200, headers: new HeaderMap(), body: { kind: 'complete', string: '{"data":{}}' } });
const ok: Stage = () => answer();
const bodyOf = (response: HTTPGraphQLResponse) => JSON.parse((response.body as { string: string }).string) as { errors: Array<{ message: string; extensions: Record<string, unknown> }> };

describe('the pipeline', () => {
  it('runs the stages in order, each around the rest', async () => {
    const order: string[] = [];
    const named = (name: string): Stage => async (_exchange, next) => {
      order.push(`${name} in`);
      const response = await next();
      order.push(`${name} out`);
      return response;
    };
    await runStages([named('a'), named('b'), ok])(exchangeFor({}));
    expect(order).toEqual(['a in', 'b in', 'b out', 'a out']);
  });

  it('refuses to read what no earlier stage established, naming it', () => {
    expect(() => established(exchangeFor({}), 'caller')).toThrow(/"caller" is read before the stage that establishes it ran/);
    expect(established({ ...exchangeFor({}), caller: ANONYMOUS }, 'caller')).toBe(ANONYMOUS);
  });

  it('turns refusals into GraphQL-over-HTTP answers with their status and headers, and nothing else', () => {
    const refused = refusalOf(new GraphQLError('slow down', { extensions: { code: 'RATE_LIMITED', http: { status: 429, headers: { 'retry-after': '3' } } } }))!;
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('3');
    expect(bodyOf(refused)).toEqual({ errors: [{ message: 'slow down', extensions: { code: 'RATE_LIMITED' } }] });
    expect(refusalOf(new Error('a bug'))).toBeNull();
  });
});

describe('stages', () => {
  it('cors answers a preflight itself and lets other requests through', async () => {
    const preflight = exchangeFor({ method: 'OPTIONS', headers: { origin: 'https://shop.example' } });
    expect((await cors(['https://shop.example'])(preflight, answer)).status).toBe(204);
    expect((preflight.res as unknown as { headers: Record<string, string> }).headers['access-control-allow-origin']).toBe('https://shop.example');
    expect((await cors([])(exchangeFor({ headers: { origin: 'https://other.example' } }), answer)).status).toBe(200);
  });

  it('deadline answers 504 when the rest takes longer, and passes a timely answer on', async () => {
    const never: Stage = () => new Promise(() => {});
    await expect(deadline(20)(exchangeFor({}), () => never(exchangeFor({}), answer))).rejects.toMatchObject({ status: 504, code: 'REQUEST_TIMEOUT' });
    expect((await deadline(1000)(exchangeFor({}), answer)).status).toBe(200);
  });

  it('readBody takes a POST JSON body or a batch, a GET query string, and refuses other content types', async () => {
    const post = exchangeFor({ body: '[{"query":"{ a }"},{"query":"{ b }"}]' });
    await readBody({ maxBodyBytes: 1024, maxVariablesDepth: 8 })(post, answer);
    expect(post.operations).toEqual([{ query: '{ a }' }, { query: '{ b }' }]);
    expect(post.request?.body).toEqual(post.operations);

    const get = exchangeFor({ method: 'GET', url: '/graphql?query=%7B%20a%20%7D&extensions=%7B%7D' });
    await readBody({ maxBodyBytes: 1024, maxVariablesDepth: 8 })(get, answer);
    expect(get.operations).toEqual([{ query: '{ a }', extensions: {} }]);
    expect(get.request?.search).toBe('?query=%7B%20a%20%7D&extensions=%7B%7D');

    await expect(readBody({ maxBodyBytes: 1024, maxVariablesDepth: 8 })(exchangeFor({ headers: { 'content-type': 'text/plain' }, body: 'x' }), answer)).rejects.toMatchObject({ status: 415 });
    await expect(readBody({ maxBodyBytes: 4, maxVariablesDepth: 8 })(exchangeFor({ body: '{"query":"{ a }"}' }), answer)).rejects.toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  it('operationLimits refuses a batch over its size and a document over a limit, before anything runs', async () => {
    const limits = operationLimits({ maxBatchSize: 2, maxTokens: 100, maxDepth: 3, maxAliases: 5, maxRootFields: 5, maxDirectives: 5 });
    const batch = exchangeFor({ body: '[{"query":"{ a }"},{"query":"{ b }"},{"query":"{ c }"}]' });
    await readBody({ maxBodyBytes: 1024, maxVariablesDepth: 8 })(batch, answer);
    await expect(limits(batch, answer)).rejects.toMatchObject({ extensions: { code: 'BATCH_TOO_LARGE' } });
    const deep = exchangeFor({ body: '{"query":"{ a { b { c { d } } } }"}' });
    await readBody({ maxBodyBytes: 1024, maxVariablesDepth: 8 })(deep, answer);
    await expect(limits(deep, answer)).rejects.toMatchObject({ extensions: { code: 'MAX_DEPTH_EXCEEDED' } });
  });
});
