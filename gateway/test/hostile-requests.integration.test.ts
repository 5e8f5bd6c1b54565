import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPersistedStore } from '../src/persisted/open-store.ts';
import type { PersistedStore } from '../src/persisted/types.ts';
import type { RunningGateway } from '../src/server.ts';
import { TEST_REDIS_URL, tokenFor, until } from '@shop/test-support';
import { startTestStack, type TestStack } from '@shop/test-support/stack';

// Bad input is never a 5xx: property-based requests, hostile in every part a client controls,
// sent over HTTP to real gateways on the real subgraphs. Every answer must be a 4xx, or a 200
// whose errors all carry a code; none may show a stack trace or an internal address; the
// gateways must stay healthy and keep answering a known-good query.
//
// `npm test` runs FUZZ_RUNS cases (default 200); a longer hunt: `FUZZ_RUNS=20000 npx vitest run
// gateway/test/hostile-requests.integration.test.ts`. A failure prints fast-check's seed and
// path; replay it with FUZZ_SEED=<seed> FUZZ_PATH=<path>.

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
/**
 * FUZZ_STATS=1 prints how the answers were distributed (status and first error code): what the
 * cases reached; 2 adds the messages; FUZZ_STATS_EXAMPLES=1 one request of each kind.
 */
const STATS = process.env.FUZZ_STATS === '1' || process.env.FUZZ_STATS === '2';
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const PATH = process.env.FUZZ_PATH;
/** Each case has this long to be answered; a hang is a finding too (generous: CI machines are shared). */
const ANSWER_TIMEOUT_MS = 60_000;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const API_KEY = 'shop_fuzz_partner_key_0123456789ab';
const PUBLISHED = { id: 'op-fuzz-products-v1', name: 'FuzzProducts', type: 'query' as const, body: 'query FuzzProducts($first: Int) { topProducts(first: $first) { upc name price } }' };

/** Documents a client might send, good and bad; the operation names they define come with them. */
const DOCUMENTS: Array<{ query: string; names: string[] }> = [
  { query: '{ topProducts(first: 2) { upc name } }', names: [] },
  { query: 'query Product($upc: String!) { product(upc: $upc) { upc name price inStock } }', names: ['Product'] },
  { query: 'query A { topProducts(first: 1) { upc } } query B { users(first: 1) { id username } }', names: ['A', 'B'] },
  { query: 'query Users($first: Int, $after: ID) { users(first: $first, after: $after) { id reviews { body } } }', names: ['Users'] },
  {
    query: 'query Products($first: Int = 3, $after: String, $category: String, $search: String) { products(first: $first, after: $after, category: $category, search: $search) { edges { node { upc name } } } }',
    names: ['Products'],
  },
  { query: 'query Me { me { id orders(first: 2) { id total status lines { quantity product { upc } } } } }', names: ['Me'] },
  {
    query: 'mutation Place($input: PlaceOrderInput!, $key: String!) { placeOrder(input: $input, idempotencyKey: $key) { id total } }',
    names: ['Place'],
  },
  { query: 'mutation Review($input: AddReviewInput!) { addReview(input: $input) { id } }', names: ['Review'] },
  { query: 'query Flags($skip: Boolean!, $n: Float) { topProducts(first: 1) @skip(if: $skip) { upc } }', names: ['Flags'] },
  { query: 'fragment F on Product { upc } query WithFragment { topProducts(first: 1) { ...F } }', names: ['WithFragment'] },
  { query: 'fragment Only on Product { upc }', names: [] },
  { query: 'subscription S { topProducts { upc } }', names: ['S'] },
  { query: '{ __schema { types { name } } }', names: [] },
  { query: '{ topProducts(first: 100) { reviews { author { reviews { product { reviews { body } } } } } } }', names: [] },
  { query: '{ nope }', names: [] },
  { query: '{ topProducts(first: "x") { upc } }', names: [] },
  { query: 'query { ', names: [] },
  { query: '', names: [] },
];

/** JSON nested `depth` levels deep, built without recursion (so the test itself survives 100,000). */
const nested = (depth: number, kind: 'array' | 'object'): string =>
  kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** A JSON text inserted verbatim into a body (deep values do not survive JSON.stringify). */
class Raw {
  constructor(readonly text: string) {}
}
const deepValue = fc
  .tuple(fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 64, max: 2000 }), fc.constantFrom(5_000, 100_000)), fc.constantFrom('array' as const, 'object' as const))
  .map(([depth, kind]) => new Raw(nested(depth, kind)));

/** Variables of every GraphQL input type, right and wrong, shallow and deep. */
const scalar = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(2 ** 31, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, 1e308, -0, 0.5, '048213000011', 'PENDING', '2026-01-01T00:00:00Z', '', '\u0000', '\ud800'),
);
const orderInput = fc.record(
  {
    lines: fc.oneof(
      fc.array(fc.record({ upc: fc.oneof(fc.constantFrom('048213000011', '048213000028'), scalar), quantity: fc.oneof(fc.integer({ min: -5, max: 2000 }), scalar) }, { requiredKeys: [] }), { maxLength: 60 }),
      scalar,
    ),
  },
  { requiredKeys: [] },
);
const variableValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 16, arbitrary: scalar },
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 8, arbitrary: orderInput },
  { weight: 1, arbitrary: deepValue },
  { weight: 4, arbitrary: fc.array(scalar, { maxLength: 20 }) },
);
const variableNames = fc.constantFrom('upc', 'first', 'after', 'category', 'search', 'input', 'key', 'skip', 'n', 'id', '__proto__', 'constructor', '');
const variables = fc.oneof(
  { weight: 12, arbitrary: fc.dictionary(variableNames, variableValue, { maxKeys: 5 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: deepValue },
  // Many keys: 20,000 fit well inside the body limit.
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 20_000 }).map((n) => new Raw(`{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`)) },
);

/** Mostly `value` itself, sometimes left out: most requests should get far enough to meet the next hazard. */
const usually = <T,>(value: fc.Arbitrary<T>, weight = 3) => fc.oneof({ weight, arbitrary: value }, { weight: 1, arbitrary: fc.constant(undefined) });
const rarely = <T,>(value: fc.Arbitrary<T>, weight = 3) => fc.oneof({ weight: 1, arbitrary: value }, { weight, arbitrary: fc.constant(undefined) });

const operationName = (names: string[]) =>
  fc.oneof(
    ...(names.length > 0 ? [{ weight: 3, arbitrary: fc.constantFrom(...names) }] : []),
    { weight: 2, arbitrary: fc.constantFrom('Missing', 'a', '', 'query', '0', '__typename', 'A B', '\n') },
    { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
    { weight: 1, arbitrary: fc.constantFrom(null, 0, true, [], {} as unknown) },
  );

const hashes = [...DOCUMENTS.map((d) => sha256(d.query)), PUBLISHED.id, sha256('not sent before')];
const persistedQuery = fc.oneof(
  fc.record(
    {
      version: fc.oneof({ weight: 5, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constantFrom(0, 2, -1, '1', null, 1.5) }),
      sha256Hash: fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom(...hashes) },
        { weight: 1, arbitrary: fc.hexaString({ minLength: 64, maxLength: 64 }) },
        { weight: 1, arbitrary: fc.string({ maxLength: 70 }) },
        { weight: 1, arbitrary: fc.constantFrom(null, 42, {}, []) },
      ),
    },
    { requiredKeys: ['version', 'sha256Hash'] },
  ),
  fc.constantFrom(null, 'x', 1, [], true, {}),
);
const extensions = fc.oneof(
  { weight: 3, arbitrary: fc.record({ persistedQuery }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.record({ persistedQuery, clientLibrary: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: ['persistedQuery'] }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: deepValue },
);

/** One operation object: a document or none, with or without a matching name, variables and extensions. */
const operation = fc
  .record({ document: fc.constantFrom(...DOCUMENTS), fuzzQuery: rarely(fc.oneof(fc.string(), fc.constantFrom(null, 1, [], {} as unknown)), 5) })
  .chain(({ document, fuzzQuery }) =>
    fc.record({
      query: usually(fc.constant(fuzzQuery === undefined ? document.query : fuzzQuery), 5),
      operationName: usually(operationName(document.names), 2),
      variables: usually(variables, 2),
      extensions: rarely(extensions, 2),
    }),
  );

/** A body as JSON text: an operation, a batch, any JSON, deep JSON, or text that is not JSON. */
const body = fc.oneof(
  { weight: 8, arbitrary: operation.map(toJson) },
  { weight: 2, arbitrary: fc.array(fc.oneof(operation, fc.jsonValue({ maxDepth: 2 })), { maxLength: 14 }).map(toJson) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map(toJson) },
  { weight: 1, arbitrary: deepValue.map((raw) => raw.text) },
  { weight: 1, arbitrary: fc.constantFrom('', '{', 'null', '"query"', '{"query": "{ topProducts { upc } }"', '\u0000', '[' + '{},'.repeat(5000) + '{}]') },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
);

/** JSON.stringify with Raw values spliced in as they are. */
function toJson(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A GET's query string: the operation's fields (JSON-encoded where GraphQL over HTTP says so), or odd text. */
const search = fc.oneof(
  {
    weight: 4,
    arbitrary: operation.map((op) => {
      const params = new URLSearchParams();
      if (op.query !== undefined) params.set('query', typeof op.query === 'string' ? op.query : toJson(op.query));
      if (op.operationName !== undefined) params.set('operationName', String(op.operationName));
      if (op.variables !== undefined) params.set('variables', toJson(op.variables).slice(0, 6000));
      if (op.extensions !== undefined) params.set('extensions', toJson(op.extensions).slice(0, 6000));
      return `?${params.toString()}`;
    }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', '?', '?query', '?query=%', '?query=%zz', '?query={a}&query={b}', '?variables=%7B', `?variables=${'%5B'.repeat(4000)}`, '?extensions=null', '?extensions=%5B%5D', '?&&&=', '?query=%E0%A4%A'),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 100 }).map((s) => `?${encodeURI(s)}`) },
);

const METHODS = ['POST', 'GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'] as const;
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/graphql-response+json',
  'APPLICATION/JSON',
  'application/jsonx',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/graphql',
  '',
];
const ACCEPTS = ['application/json', 'application/graphql-response+json', 'multipart/mixed; deferSpec=20220824', 'multipart/mixed', 'text/event-stream', 'text/html', '*/*', '', 'application/json;q=0', 'x'];

interface Credentials {
  good: string;
  expired: string;
  noScopes: string;
}
// Each header is mostly absent or right: a request must get past the early refusals (415, 401)
// often enough to reach the later stages and Apollo with its hostile parts.
const headers = (credentials: Credentials) =>
  fc.record({
    'content-type': fc.oneof({ weight: 14, arbitrary: fc.constant('application/json') }, { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) }, { weight: 1, arbitrary: fc.string({ maxLength: 30 }) }),
    authorization: rarely(
      fc.oneof(
        { weight: 3, arbitrary: fc.constant(`Bearer ${credentials.good}`) },
        {
          weight: 2,
          arbitrary: fc.constantFrom(`Bearer ${credentials.expired}`, `Bearer ${credentials.noScopes}`, 'Bearer ', 'Bearer x.y.z', 'Basic dXNlcjpwYXNz', `bearer ${credentials.good}`, 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.'),
        },
        { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
      ),
      2,
    ),
    'apollo-require-preflight': usually(fc.constantFrom('true', '', 'x'), 1),
    'x-api-key': rarely(fc.oneof({ weight: 2, arbitrary: fc.constant(API_KEY) }, { weight: 1, arbitrary: fc.constantFrom('shop_not_a_key', '') }, { weight: 1, arbitrary: fc.string({ maxLength: 40 }) }), 8),
    'x-forwarded-for': rarely(fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('unknown', '1.2.3.4, 5.6.7.8', ', ,', '999.1.1.1'))),
    accept: rarely(fc.constantFrom(...ACCEPTS), 2),
    'apollographql-client-name': rarely(fc.string({ maxLength: 30 })),
    'x-call-report': rarely(fc.constantFrom('1', 'true', 'x')),
  });

/** Header values a client can really send: HTTP forbids control characters and non-Latin-1 text. */
const sendable = (value: string) => value.replace(/[^\x20-\x7e]/g, '');

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/** One raw HTTP request (node:http, not fetch: fetch refuses a GET with a body and some headers). */
function send(url: string, method: string, path: string, headerValues: Record<string, string>, payload: string | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = httpRequest(
      { host: target.hostname, port: target.port, method, path: `${target.pathname}${path}`, headers: headerValues, timeout: ANSWER_TIMEOUT_MS },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

function firstCode(answer: Answer): string {
  try {
    const parsed = JSON.parse(answer.text) as unknown;
    const first = (Array.isArray(parsed) ? parsed[0] : parsed) as { errors?: Array<{ extensions?: { code?: string } }>; data?: unknown } | null;
    const error = first?.errors?.[0] as { message?: string; extensions?: { code?: string } } | undefined;
    // FUZZ_STATS=2: the message's start too, to tell refusals of one code apart.
    const detail = process.env.FUZZ_STATS === '2' && error?.message ? ` ${error.message.slice(0, 50)}` : '';
    return error?.extensions?.code ? `${error.extensions.code}${detail}` : first?.data ? 'data' : '-';
  } catch {
    return answer.contentType.split(';')[0] || '-';
  }
}

/** What a hostile request may get back; a description of the problem, or null when the answer is fine. */
function problemWith(answer: Answer, production: boolean): string | null {
  if (answer.status >= 500 || answer.status < 200) return `status ${answer.status}`;
  if (production && /\bat .+:\d+:\d+\)?|"stacktrace"/.test(answer.text)) return 'a stack trace in the body';
  if (/ECONNREFUSED|127\.0\.0\.1:\d+|localhost:\d+|\[::1\]:\d+/.test(answer.text)) return 'an internal address in the body';
  if (answer.text === '') return null;
  // A browser's GET that accepts HTML gets the explorer's page (EXPLORER, edge/explorer.ts).
  if (answer.status === 200 && answer.contentType.startsWith('text/html')) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.text);
  } catch {
    // Some 4xx (a preflight, a method Apollo does not serve) are not GraphQL answers; a 200 always is.
    return answer.status === 200 ? 'a 200 that is not JSON' : null;
  }
  const answers = Array.isArray(parsed) ? parsed : [parsed];
  for (const item of answers) {
    const errors = (item as { errors?: unknown } | null)?.errors;
    if (errors === undefined) continue;
    if (!Array.isArray(errors)) return 'errors that are not a list';
    for (const error of errors as Array<{ extensions?: { code?: unknown } }>) {
      if (typeof error?.extensions?.code !== 'string') return `an error without extensions.code: ${JSON.stringify(error).slice(0, 300)}`;
      // The client's mistake coded as the server's: no code it can act on, and masked in production.
      if (error.extensions.code === 'INTERNAL_SERVER_ERROR') return `a client error coded INTERNAL_SERVER_ERROR: ${JSON.stringify(error).slice(0, 300)}`;
    }
  }
  return null;
}

const PRODUCTION_SECRET = 'a-production-secret-for-the-fuzz-run-0123456789';
const ISSUER = 'https://id.shop.test/';
const AUDIENCE = 'shop-api';
/** Rate limits out of the way: a 429 is a fine answer, but it would stop the cases reaching the stages behind it. */
const UNLIMITED = { RATE_LIMIT_IP: '10000000', RATE_LIMIT_CLIENT: '10000000', RATE_LIMIT_AUTH_FAILURES: '1000000' };

let stack: TestStack;
let store: PersistedStore;
let production: RunningGateway;
const credentials = { development: {} as Credentials, production: {} as Credentials };

beforeAll(async () => {
  // Development: stack traces allowed, error messages unmasked, a response cache and inbound dedup on.
  stack = await startTestStack({ gatewayEnv: { ...UNLIMITED, RESPONSE_CACHE: 'memory' } });
  production = await stack.startGateway({ ...UNLIMITED, NODE_ENV: 'production', AUTH_JWT_SECRET: PRODUCTION_SECRET, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE });
  store = openPersistedStore({ redisUrl: TEST_REDIS_URL, dir: stack.persistedDir, redisPrefix: `${stack.redisPrefix}pq:` });
  await store.putClient({ name: 'fuzz-partner', policy: 'enforce', apiKeyHash: sha256(API_KEY), createdAt: new Date().toISOString() });
  await store.publishManifest('fuzz-partner', 'catalog', [PUBLISHED]);
  await until(async () => stack.gateway.registry.operation('fuzz-partner', PUBLISHED.id) !== undefined && production.registry.operation('fuzz-partner', PUBLISHED.id) !== undefined);
  credentials.development = { good: await tokenFor(3), expired: await tokenFor(3, { expiresIn: '-1m' }), noScopes: await tokenFor(3, { scope: '' }) };
  const productionToken = (options: { expiresIn?: string; scope?: string } = {}) =>
    import('@shop/cli').then(({ mintToken }) =>
      mintToken({ subject: '3', scope: options.scope ?? 'orders:read orders:write reviews:write', expiresIn: options.expiresIn ?? '5m', issuer: ISSUER, audience: AUDIENCE, secret: PRODUCTION_SECRET }),
    );
  credentials.production = { good: await productionToken(), expired: await productionToken({ expiresIn: '-1m' }), noScopes: await productionToken({ scope: '' }) };
});
afterAll(async () => {
  await store?.close();
  await stack?.stop();
});

/** A hostile request: a method, a body or a query string, and headers a client chose. */
const hostileRequest = (forCredentials: Credentials) =>
  fc.record({
    method: fc.oneof({ weight: 6, arbitrary: fc.constant('POST') }, { weight: 3, arbitrary: fc.constant('GET') }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) }),
    search,
    body,
    bodyOnGet: fc.boolean(),
    headers: headers(forCredentials),
  });

interface HostileRequest {
  method: string;
  search: string;
  body: string;
  bodyOnGet: boolean;
  headers: Record<string, string | undefined>;
}

async function sendHostile(gatewayUrl: string, request: HostileRequest): Promise<Answer> {
  const headerValues = Object.fromEntries(Object.entries(request.headers).flatMap(([name, value]) => (value === undefined ? [] : [[name, sendable(value)]])));
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD' ? true : request.method === 'GET' && request.bodyOnGet;
  const path = request.method === 'POST' ? '' : request.search;
  // Framed with a length whatever the method (node:http sends a GET's body unframed otherwise).
  if (hasBody) headerValues['content-length'] = String(Buffer.byteLength(request.body));
  return send(gatewayUrl, request.method, path, headerValues, hasBody ? request.body : undefined);
}

async function knownGoodAnswers(url: string): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ topProducts(first: 2) { upc name } }' }) });
  expect(response.status).toBe(200);
  const answer = (await response.json()) as { data?: { topProducts: Array<{ upc: string; name: string }> }; errors?: unknown };
  expect(answer.errors).toBeUndefined();
  expect(answer.data?.topProducts).toHaveLength(2);
}

describe('hostile requests', () => {
  it('the known 500s (and uncoded 400s) are coded 400s: an unknown operationName, variables 100,000 deep, a subscription, malformed persisted queries, a list size no Int holds', async () => {
    for (const gateway of [stack.gateway, production]) {
      const unknown = await send(gateway.url, 'POST', '', { 'content-type': 'application/json' }, JSON.stringify({ query: '{ topProducts(first: 1) { upc } }', operationName: 'Missing' }));
      expect(unknown.status).toBe(400);
      expect(JSON.parse(unknown.text)).toMatchObject({ errors: [{ message: expect.stringContaining('"Missing"'), extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } }] });

      const unnamed = await send(gateway.url, 'POST', '', { 'content-type': 'application/json' }, JSON.stringify({ query: DOCUMENTS[2]!.query }));
      expect(unnamed.status).toBe(400);
      expect(JSON.parse(unnamed.text)).toMatchObject({ errors: [{ extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } }] });

      // Found by the property below: a subscription, which the schema has no root type for, was planned and answered 500.
      const subscription = await send(gateway.url, 'POST', '', { 'content-type': 'application/json' }, JSON.stringify({ query: 'subscription S { topProducts { upc } }', operationName: 'S' }));
      expect(subscription.status).toBe(400);
      expect(JSON.parse(subscription.text)).toMatchObject({ errors: [{ message: expect.stringContaining('no subscription type'), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] });

      // Found by the property below: persisted-query extensions Apollo refuses without a code (INTERNAL_SERVER_ERROR, masked in production).
      for (const [body, code] of [
        [{ query: '{ topProducts(first: 1) { upc } }', extensions: { persistedQuery: { version: 2, sha256Hash: sha256('{ topProducts(first: 1) { upc } }') } } }, 'BAD_REQUEST'],
        [{ query: '{ topProducts(first: 1) { upc } }', extensions: { persistedQuery: { version: 1, sha256Hash: 42 } } }, 'BAD_REQUEST'],
        [{ extensions: { persistedQuery: 'x' } }, 'BAD_REQUEST'],
        [{ query: '', extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } } }, 'PERSISTED_QUERY_HASH_MISMATCH'],
      ] as const) {
        const answer = await send(gateway.url, 'POST', '', { 'content-type': 'application/json' }, JSON.stringify(body));
        expect(answer.status).toBe(400);
        expect(JSON.parse(answer.text)).toMatchObject({ errors: [{ extensions: { code } }] });
      }

      // In a batch, too: the bad item is answered 400-coded, its neighbour runs.
      const batch = await send(gateway.url, 'POST', '', { 'content-type': 'application/json' }, JSON.stringify([{ query: '{ topProducts(first: 1) { upc } }' }, { query: 'query A { topProducts(first: 1) { upc } }', operationName: 'B' }]));
      expect(batch.status).toBeLessThan(500);
      const [good, bad] = JSON.parse(batch.text) as Array<{ data?: unknown; errors?: Array<{ extensions: { code: string } }> }>;
      expect(good?.data).toEqual({ topProducts: [{ upc: expect.any(String) }] });
      expect(bad?.errors?.[0]?.extensions.code).toBe('OPERATION_RESOLUTION_FAILURE');

      // Found by a 20,000-case run: a list size no Int can hold made the cost estimate Infinity, which
      // the cost histogram refused with a 500 before Apollo could refuse the variable.
      for (const first of [1e308, 2 ** 31, 2.5]) {
        const users = 'query Users($first: Int) { users(first: $first) { id reviews { body } } }';
        const huge = await send(gateway.url, 'POST', '', { 'content-type': 'application/json' }, JSON.stringify({ query: users, variables: { first } }));
        expect(huge.status).toBe(400);
        expect(JSON.parse(huge.text)).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT' } }] });
      }

      // Found by a 20,000-case run: a NUL in a string argument, which PostgreSQL text cannot hold, was an uncoded error.
      for (const variables of [{ search: '\u0000' }, { category: 'a\u0000b' }]) {
        const products = 'query Products($search: String, $category: String) { products(first: 2, search: $search, category: $category) { edges { node { upc } } } }';
        const nul = await send(gateway.url, 'POST', '', { 'content-type': 'application/json' }, JSON.stringify({ query: products, variables }));
        expect(nul.status).toBe(200);
        expect(JSON.parse(nul.text)).toMatchObject({ data: { products: null }, errors: [{ path: ['products'], message: expect.stringContaining('NUL'), extensions: { code: 'BAD_USER_INPUT' } }] });
      }

      const query = 'query Product($upc: String!) { product(upc: $upc) { upc } }';
      for (const deep of [nested(100_000, 'object'), nested(100_000, 'array'), nested(33, 'array')]) {
        const posted = await send(gateway.url, 'POST', '', { 'content-type': 'application/json' }, `{"query":${JSON.stringify(query)},"variables":{"upc":${deep}}}`);
        expect(posted.status).toBe(400);
        expect(JSON.parse(posted.text)).toMatchObject({ errors: [{ extensions: { code: 'MAX_VARIABLES_DEPTH_EXCEEDED' } }] });
        const extensions = await send(gateway.url, 'POST', '', { 'content-type': 'application/json' }, `{"query":${JSON.stringify(query)},"extensions":${deep}}`);
        expect(extensions.status).toBe(400);
      }
      // GET: the query string holds several thousand levels, enough to overflow a recursive walk.
      // (Brackets unescaped, as servers accept them: escaped, they would pass the 16 KiB header limit.)
      const get = await send(gateway.url, 'GET', `?query=${encodeURIComponent(query)}&variables=%7B%22upc%22:${nested(6000, 'array')}%7D`, { 'apollo-require-preflight': 'true' }, undefined);
      expect(get.status).toBe(400);
      expect(JSON.parse(get.text)).toMatchObject({ errors: [{ extensions: { code: 'MAX_VARIABLES_DEPTH_EXCEEDED' } }] });
      // A batch of deep items, and a body that is nothing but nesting.
      const deepBatch = await send(gateway.url, 'POST', '', { 'content-type': 'application/json' }, `[${Array.from({ length: 5 }, () => `{"query":"{ topProducts { upc } }","variables":${nested(20_000, 'array')}}`).join(',')}]`);
      expect(deepBatch.status).toBe(400);
      expect((await send(gateway.url, 'POST', '', { 'content-type': 'application/json' }, nested(100_000, 'array'))).status).toBe(400);

      // Legitimate variables, up to the limit, still run.
      const shallow = await send(gateway.url, 'POST', '', { 'content-type': 'application/json' }, JSON.stringify({ query, variables: { upc: '048213000011' } }));
      expect(shallow.status).toBe(200);
      await knownGoodAnswers(gateway.url);
    }
  }, 300_000);

  it(`${RUNS} generated requests get a 4xx or coded errors, never a 5xx, and the gateways stay healthy`, async () => {
    const failures: string[] = [];
    const tally = new Map<string, number>();
    for (const [name, gateway, production_] of [
      ['development', stack.gateway, false],
      ['production', production, true],
    ] as const) {
      const forCredentials = production_ ? credentials.production : credentials.development;
      await fc.assert(
        fc.asyncProperty(hostileRequest(forCredentials), async (request) => {
          const answer = await sendHostile(gateway.url, request);
          if (STATS) {
            const key = `${name} ${answer.status} ${firstCode(answer)}`;
            if (!tally.has(key) && process.env.FUZZ_STATS_EXAMPLES) process.stdout.write(`${key} ${JSON.stringify(request).slice(0, 600)} => ${answer.text.slice(0, 300)}\n`);
            tally.set(key, (tally.get(key) ?? 0) + 1);
          }
          const problem = problemWith(answer, production_);
          if (problem) throw new Error(`${name} gateway answered ${problem}: ${answer.text.slice(0, 500)}`);
        }),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }), ...(PATH === undefined ? {} : { path: PATH }) },
      ).catch((error: unknown) => failures.push(String(error instanceof Error ? error.message : error)));
    }
    if (STATS) process.stdout.write(`${[...tally].sort(([a], [b]) => a.localeCompare(b)).map(([key, count]) => `${String(count).padStart(6)} ${key}`).join('\n')}\n`);
    expect(failures).toEqual([]);

    for (const gateway of [stack.gateway, production]) {
      const health = await fetch(gateway.url.replace(/\/graphql$/, '/health'));
      expect(health.status).toBe(200);
      await knownGoodAnswers(gateway.url);
    }
  }, 600_000);
});
