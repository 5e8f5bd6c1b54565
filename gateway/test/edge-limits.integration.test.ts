import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPersistedStore } from '../src/persisted/open-store.ts';
import type { PersistedStore } from '../src/persisted/types.ts';
import { TEST_REDIS_URL, tokenFor, until } from '@shop/test-support';
import { startTestStack, type TestStack } from '@shop/test-support/stack';

let stack: TestStack;
let store: PersistedStore;
beforeAll(async () => {
  stack = await startTestStack();
  store = openPersistedStore({ redisUrl: TEST_REDIS_URL, dir: stack.persistedDir, redisPrefix: `${stack.redisPrefix}pq:` });
});
afterAll(async () => {
  await store?.close();
  await stack?.stop();
});

type Body = { data?: Record<string, unknown> | null; errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, unknown> }> };
async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Body };
}
const codeOf = (body: Body) => body.errors?.[0]?.extensions?.code;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('automatic persisted queries', () => {
  it('follow Apollo\'s protocol and are shared by every replica through Redis', async () => {
    const query = '{ topProducts(first: 2) { upc name } }';
    const extensions = { persistedQuery: { version: 1, sha256Hash: sha256(query) } };

    const unknown = await post(stack.gatewayUrl, { extensions });
    expect(codeOf(unknown.body)).toBe('PERSISTED_QUERY_NOT_FOUND');

    const registered = await post(stack.gatewayUrl, { query, extensions });
    expect(registered.body.errors).toBeUndefined();

    const byHash = await post(stack.gatewayUrl, { extensions });
    expect(byHash.body).toEqual(registered.body);

    const replica = await stack.startGateway();
    expect((await post(replica.url, { extensions })).body).toEqual(registered.body);
  });

  it('refuse a hash that does not match the query', async () => {
    const response = await post(stack.gatewayUrl, { query: '{ users(first: 1) { id } }', extensions: { persistedQuery: { version: 1, sha256Hash: sha256('other') } } });
    expect(response.status).toBe(400);
    expect(codeOf(response.body)).toBe('PERSISTED_QUERY_HASH_MISMATCH');
  });
});

describe('trusted documents for partners', () => {
  const apiKey = 'shop_test_partner_key_0123456789';
  const products = { id: 'op-products-v1', name: 'PartnerProducts', type: 'query' as const, body: 'query PartnerProducts { topProducts(first: 3) { upc name price } }' };
  const product = { id: 'op-product-v1', name: 'PartnerProduct', type: 'query' as const, body: 'query PartnerProduct($upc: String!) { product(upc: $upc) { upc name inStock } }' };
  const byId = (id: string, variables?: Record<string, unknown>) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: id } }, variables });

  beforeAll(async () => {
    await store.putClient({ name: 'partner', policy: 'enforce', apiKeyHash: sha256(apiKey), createdAt: new Date().toISOString() });
    await store.putClient({ name: 'web', policy: 'log', apiKeyHash: sha256('shop_test_web_key_0123456789abcd'), createdAt: new Date().toISOString() });
    await store.publishManifest('partner', 'catalog', [products]);
    await until(async () => stack.gateway.registry.operation('partner', products.id) !== undefined);
  });

  it('a partner under enforce runs its manifest\'s operations by id, and nothing else', async () => {
    const headers = { 'x-api-key': apiKey };
    const listed = await post(stack.gatewayUrl, byId(products.id), headers);
    expect(listed.body.errors).toBeUndefined();
    expect((listed.body.data!.topProducts as unknown[]).length).toBe(3);

    const freeForm = await post(stack.gatewayUrl, { query: products.body }, headers);
    expect(freeForm.status).toBe(400);
    expect(codeOf(freeForm.body)).toBe('PERSISTED_QUERY_REQUIRED');

    const unknown = await post(stack.gatewayUrl, byId('op-not-published'), headers);
    expect(unknown.status).toBe(400);
    expect(codeOf(unknown.body)).toBe('PERSISTED_QUERY_NOT_IN_LIST');

    // The APQ route is closed too: registering a document needs a free-form query.
    const apq = await post(stack.gatewayUrl, { query: '{ users(first: 1) { id } }', extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ users(first: 1) { id } }') } } }, headers);
    expect(codeOf(apq.body)).toBe('PERSISTED_QUERY_REQUIRED');
  });

  it('takes a newly published manifest into effect without a restart, on every replica', async () => {
    const replica = await stack.startGateway();
    const before = await post(replica.url, byId(product.id, { upc: '048213000011' }), { 'x-api-key': apiKey });
    expect(codeOf(before.body)).toBe('PERSISTED_QUERY_NOT_IN_LIST');

    await store.publishManifest('partner', 'product-page', [product]);
    await until(async () => {
      const response = await post(replica.url, byId(product.id, { upc: '048213000011' }), { 'x-api-key': apiKey });
      return response.body.errors === undefined;
    });
    const after = await post(stack.gatewayUrl, byId(product.id, { upc: '048213000011' }), { 'x-api-key': apiKey });
    expect(after.body.data).toEqual({ product: { upc: '048213000011', name: expect.any(String), inStock: expect.any(Boolean) } });
    // Both manifests of the client are in force.
    expect((await post(replica.url, byId(products.id), { 'x-api-key': apiKey })).body.errors).toBeUndefined();
  });

  it('refuses an unknown API key, and lets a client under log run other operations', async () => {
    const wrong = await post(stack.gatewayUrl, byId(products.id), { 'x-api-key': 'shop_not_a_key' });
    expect(wrong.status).toBe(401);
    expect(codeOf(wrong.body)).toBe('INVALID_API_KEY');

    const logged = await post(stack.gatewayUrl, { query: '{ users(first: 1) { id } }' }, { 'x-api-key': 'shop_test_web_key_0123456789abcd' });
    expect(logged.body.errors).toBeUndefined();
    // ...and counts it, under the registered client's name.
    const metrics = await (await fetch(`${stack.gateway.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/persisted_query_unlisted_total\{[^}]*client="web"[^}]*\} 1/);
    expect(metrics).toMatch(/graphql_requests_total\{[^}]*client="partner"[^}]*\} [1-9]/);
  });
});

describe('limits', () => {
  const nested = (levels: number) => `{ users(first: 1) ${'{ reviews(first: 1) { author '.repeat(levels)}{ id }${' } }'.repeat(levels)} }`;

  it('refuses deep, wide and expensive operations before any subgraph call, each with its own code', async () => {
    const deep = await stack.query(nested(500));
    expect(deep.status).toBe(400);
    expect(['MAX_DEPTH_EXCEEDED', 'MAX_TOKENS_EXCEEDED']).toContain(codeOf(deep.body));
    expect(codeOf((await stack.query(nested(8))).body)).toBe('MAX_DEPTH_EXCEEDED');

    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: __typename`).join(' ')} }`;
    const tenThousand = await stack.query(aliases(10_000));
    expect(tenThousand.status).toBe(400);
    expect(['MAX_ALIASES_EXCEEDED', 'MAX_TOKENS_EXCEEDED']).toContain(codeOf(tenThousand.body));
    expect(codeOf((await stack.query(aliases(31))).body)).toBe('MAX_ALIASES_EXCEEDED');

    const roots = `{ ${Array.from({ length: 21 }, (_, i) => `u${i}: user(id: "${i + 1}") { id }`).join(' ')} }`;
    expect(codeOf((await stack.query(roots)).body)).toBe('MAX_ROOT_FIELDS_EXCEEDED');

    const cycle = await stack.query('query { users { ...A } } fragment A on User { reviews { author { ...B } } } fragment B on User { ...A }');
    expect(cycle.status).toBe(400);
    expect(codeOf(cycle.body)).toBe('GRAPHQL_VALIDATION_FAILED');

    const expensive = await stack.query('{ users(first: 100) { reviews(first: 50) { product { reviews(first: 50) { id } } } } }');
    expect(expensive.status).toBe(400);
    expect(codeOf(expensive.body)).toBe('COST_LIMIT_EXCEEDED');
    expect(expensive.body.errors?.[0]?.extensions?.cost).toBeGreaterThan(10_000);

    // And the gateway keeps serving.
    expect((await stack.query('{ users(first: 1) { id } }')).body.errors).toBeUndefined();
  });

  it('measures instead of refusing in measure mode', async () => {
    const measuring = await stack.startGateway({ COST_MODE: 'measure', COST_LIMIT: '10' });
    const response = await post(measuring.url, { query: '{ users(first: 30) { id } }' });
    expect(response.body.errors).toBeUndefined();
  });

  it('refuses a 10 MB body and an oversized batch', async () => {
    const huge = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ users { id } } #${'x'.repeat(10 * 1024 * 1024)}` }),
    });
    expect(huge.status).toBe(413);

    const batch = await post(stack.gatewayUrl, Array.from({ length: 11 }, () => ({ query: '{ users(first: 1) { id } }' })));
    expect(batch.status).toBe(400);
    expect(codeOf(batch.body)).toBe('BATCH_TOO_LARGE');
    const small = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: '{ users(first: 1) { id } }' }, { query: '{ topProducts(first: 1) { upc } }' }]),
    });
    expect(((await small.json()) as unknown[]).length).toBe(2);
  });

  it('answers with 504 when the request deadline passes', async () => {
    const hurried = await stack.startGateway({ REQUEST_TIMEOUT_MS: '1' });
    const response = await post(hurried.url, { query: '{ users(first: 50) { id name reviews { id product { name inStock } } } }' });
    expect(response.status).toBe(504);
    expect(codeOf(response.body)).toBe('REQUEST_TIMEOUT');
  });
});

describe('browser and production settings', () => {
  it('allows only the listed origins (CORS) and answers preflights', async () => {
    const gateway = await stack.startGateway({ CORS_ORIGINS: 'https://shop.example' });
    const allowed = await fetch(gateway.url, { method: 'OPTIONS', headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' } });
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    const other = await fetch(gateway.url, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ users(first: 1) { id } }' }) });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('turns introspection off and masks internal errors in production, keeping the code and the request id', async () => {
    const production = await stack.startGateway({
      NODE_ENV: 'production',
      AUTH_JWT_SECRET: 'production-test-secret-0123456789abcdef',
      AUTH_JWT_ISSUER: 'https://id.shop.test/',
      AUTH_JWT_AUDIENCE: 'shop-api',
      // A subgraph URL that answers 404: Apollo's error carries the URL, which must not leak, nor a stack trace.
      // (A subgraph that is down answers SUBGRAPH_UNAVAILABLE instead: subgraph-faults.integration.test.ts.)
      SUBGRAPH_URL_ACCOUNTS: stack.subgraphUrls.accounts.replace(/\/graphql$/, '/no-such-route'),
    });
    const introspection = await post(production.url, { query: '{ __schema { types { name } } }' });
    expect(introspection.status).toBe(400);
    expect(codeOf(introspection.body)).toBe('GRAPHQL_VALIDATION_FAILED');

    const failing = await post(production.url, { query: '{ users(first: 1) { id } }' }, { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
    const error = failing.body.errors?.[0];
    expect(error?.message).toBe('Internal server error.');
    expect(error?.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', requestId: '4bf92f3577b34da6a3ce929d0e0e4736' });
    expect(JSON.stringify(failing.body)).not.toMatch(/127\.0\.0\.1|no-such-route|Not Found|stack/);
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After past the per-IP limit, counted across replicas in Redis', async () => {
    const env = { RATE_LIMIT_IP: '3', REDIS_PREFIX: `${stack.redisPrefix}rl-ip:` };
    const a = await stack.startGateway(env);
    const b = await stack.startGateway(env);
    const query = { query: '{ users(first: 1) { id } }' };
    expect((await post(a.url, query)).status).toBe(200);
    expect((await post(b.url, query)).status).toBe(200);
    const third = await post(a.url, query);
    expect(third.status).toBe(200);
    expect(third.headers.get('ratelimit-remaining')).toBe('0');
    const limited = await post(b.url, query);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(codeOf(limited.body)).toBe('RATE_LIMITED');
  });

  it('limits a client by its API key', async () => {
    const gateway = await stack.startGateway({ RATE_LIMIT_CLIENT: '2', REDIS_PREFIX: stack.redisPrefix, PQ_DEFAULT_POLICY: 'off' });
    const key = 'shop_test_limited_key_0123456789';
    await store.putClient({ name: 'limited', policy: 'off', apiKeyHash: sha256(key), createdAt: new Date().toISOString() });
    await until(async () => (await post(gateway.url, { query: '{ users(first: 1) { id } }' }, { 'x-api-key': key })).status !== 401);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await post(gateway.url, { query: '{ users(first: 1) { id } }' }, { 'x-api-key': key })).status);
    expect(statuses.at(-1)).toBe(429);
    // Another caller is not affected by that client's limit.
    expect((await stack.query('{ users(first: 1) { id } }', {}, { token: await tokenFor(3) })).status).toBe(200);
  });
});

describe('admission control', () => {
  it('queues operations beyond MAX_CONCURRENT_OPERATIONS and answers 503 SERVER_BUSY past the queue, before executing', async () => {
    // Accounts never answers: the execution that fetches from it holds its slot until released.
    const { gateway, hanging } = await stack.startGatewayWithHangingSubgraph('accounts', {
      MAX_CONCURRENT_OPERATIONS: '1',
      OPERATION_QUEUE_SIZE: '1',
      INBOUND_DEDUP: 'false',
    });
    const metricsUrl = `${gateway.metricsUrl}/metrics`;
    const gauge = async (state: string) => {
      const text = await (await fetch(metricsUrl)).text();
      return Number(new RegExp(`^gateway_operations\\{state="${state}",service="gateway"\\} (\\d+)`, 'm').exec(text)?.[1]);
    };

    const stuck = post(gateway.url, { query: '{ users(first: 1) { id } }' });
    await until(async () => (await gauge('executing')) === 1 && hanging.connections() > 0);
    const waiting = post(gateway.url, { query: '{ topProducts(first: 1) { upc } }' });
    await until(async () => (await gauge('queued')) === 1);

    const token = await tokenFor(1);
    const review = { upc: '048213000011', rating: 5, body: `refused while busy ${Date.now()}` };
    const refused = await post(
      gateway.url,
      { query: 'mutation ($input: AddReviewInput!) { addReview(input: $input) { id } }', variables: { input: review } },
      { authorization: `Bearer ${token}` },
    );
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(codeOf(refused.body)).toBe('SERVER_BUSY');
    expect(refused.body.errors?.[0]?.message).toMatch(/Nothing was executed; retry/);

    // The held subgraph call fails; its slot goes to the waiting operation, which is served.
    hanging.release();
    const [failed, served] = await Promise.all([stuck, waiting]);
    expect(failed.status).toBe(200);
    expect(failed.body.errors?.length).toBeGreaterThan(0);
    expect(served.body).toEqual({ data: { topProducts: [{ upc: expect.any(String) }] } });
    expect([await gauge('executing'), await gauge('queued'), await gauge('max')]).toEqual([0, 0, 1]);

    const metrics = await (await fetch(metricsUrl)).text();
    expect(metrics).toMatch(/^gateway_admission_rejected_total\{reason="queue_full",service="gateway"\} 1$/m);
    expect(metrics).toMatch(/^graphql_requests_total\{[^}]*outcome="SERVER_BUSY"[^}]*\} 1$/m);
    // The refused mutation did not happen.
    const reviews = await stack.query<{ product: { reviews: Array<{ body: string }> } }>('{ product(upc: "048213000011") { reviews(first: 50) { body } } }');
    expect(reviews.body.data?.product.reviews.map((r) => r.body)).not.toContain(review.body);
  });
});
