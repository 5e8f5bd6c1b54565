import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import type { DatabaseSubgraph } from '@shop/service-kit';
import { freePort, startFaultyProxy, tokenFor, until, type FaultyProxy } from '@shop/test-support';
import { startSubgraphCopy, startTestStack, type GraphQLResponse, type TestStack } from '@shop/test-support/stack';

let stack: TestStack;
const cleanups: Array<() => Promise<unknown>> = [];
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await stack?.stop();
});

type Body = GraphQLResponse['body'];
type GraphQLError = NonNullable<Body['errors']>[number];

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Body }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Body };
}

/** Runs `count` requests, `concurrency` at a time; `onProgress` sees how many have been sent. */
async function load<T>(count: number, concurrency: number, send: (i: number) => Promise<T>, onProgress?: (sent: number) => void): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      onProgress?.(next);
      results[i] = await send(i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

const metricsOf = async (gateway: { metricsUrl: string | null }) => (await fetch(`${gateway.metricsUrl}/metrics`)).text();
const metric = (text: string, name: string, labels: Record<string, string>): number => {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

/** Nothing a person reads may name an address, a port or the network error. */
const NETWORK_DETAIL = /127\.0\.0\.1|localhost|ECONN|EPIPE|socket|UND_ERR|:\d{2,5}\b|Headers Timeout/i;
const PRODUCT_QUERY = '{ topProducts(first: 3) { upc name price inStock quantity reviews(first: 2) { rating author { username } } } }';

interface Product {
  upc: string;
  name: string;
  price: number;
  inStock: boolean | null;
  quantity: number | null;
  reviews: Array<{ rating: number; author: { username: string } | null }> | null;
}

describe('a subgraph killed under load', () => {
  let inventory: DatabaseSubgraph<unknown>;

  it('costs only its fields, coded SUBGRAPH_UNAVAILABLE, and the circuit closes once it is back', async () => {
    const port = await freePort();
    inventory = await startSubgraphCopy(stack, 'inventory', port);
    cleanups.push(() => inventory.close());
    const gateway = await stack.startGateway({ SUBGRAPH_URL_INVENTORY: inventory.url, INBOUND_DEDUP: 'false', SUBGRAPH_BREAKER_HALF_OPEN_MS: '500' });

    // 200 requests, 8 at a time; inventory's HTTP server is closed after the 60th is sent.
    let closing: Promise<void> | undefined;
    const responses = await load(
      200,
      8,
      () => post(gateway.url, { query: PRODUCT_QUERY }),
      (sent) => {
        if (sent === 60) closing = inventory.close();
      },
    );
    await closing;

    const whole = responses.filter((r) => !r.body.errors);
    const degraded = responses.filter((r) => r.body.errors);
    // The kill really happened mid-run: answers before it are whole, after it degraded.
    expect(whole.length).toBeGreaterThan(0);
    expect(degraded.length).toBeGreaterThan(100);
    const reasons = new Map<string, number>();
    for (const { status, body } of responses) {
      expect(status).toBe(200);
      const products = (body.data as { topProducts: Product[] }).topProducts;
      expect(products).toHaveLength(3);
      for (const product of products) {
        // Products' and reviews' (and accounts') fields are there in every answer.
        expect(product).toMatchObject({ upc: expect.any(String), name: expect.any(String), price: expect.any(Number) });
        expect(product.reviews).toEqual(expect.any(Array));
        for (const review of product.reviews!) expect(review.author).toMatchObject({ username: expect.any(String) });
      }
      for (const error of body.errors ?? []) {
        expect(error.path).toEqual(['topProducts', expect.any(Number), expect.stringMatching(/^(inStock|quantity)$/)]);
        expect(error.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'inventory' });
        expect(error.message).not.toMatch(NETWORK_DETAIL);
        const reason = String(error.extensions?.reason);
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        // The failed field is null, its siblings are not.
        expect((products[error.path![1] as number] as unknown as Record<string, unknown>)[error.path![2] as string]).toBeNull();
      }
      expect(JSON.stringify(body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
    }
    // Refused connections first, then the breaker failing fast without trying.
    expect(reasons.get('connection_failed')).toBeGreaterThan(0);
    expect(reasons.get('circuit_open')).toBeGreaterThan(0);
    expect([...reasons.keys()].sort()).toEqual(['circuit_open', 'connection_failed']);
    const down = await metricsOf(gateway);
    expect(metric(down, 'subgraph_circuit_state', { subgraph: 'inventory', state: 'closed' })).toBe(0);
    expect(metric(down, 'subgraph_fetch_failures_total', { subgraph: 'inventory', code: 'SUBGRAPH_UNAVAILABLE', reason: 'circuit_open' })).toBeGreaterThan(0);
    expect(metric(down, 'subgraph_circuit_state', { subgraph: 'products', state: 'closed' })).toBe(1);

    // Back on the same port: a probe closes the circuit and answers are whole again.
    inventory = await startSubgraphCopy(stack, 'inventory', port);
    await until(
      async () => !(await post(gateway.url, { query: PRODUCT_QUERY })).body.errors,
      // The circuit probes within SUBGRAPH_BREAKER_HALF_OPEN_MS; the bound leaves room for a loaded machine.
      { timeoutMs: 15_000, intervalMs: 100, what: 'a whole answer after inventory came back' },
    );
    expect(metric(await metricsOf(gateway), 'subgraph_circuit_state', { subgraph: 'inventory', state: 'closed' })).toBe(1);
    const after = await load(40, 8, () => post(gateway.url, { query: PRODUCT_QUERY }));
    expect(after.filter((r) => r.status === 200 && !r.body.errors && (r.body.data as { topProducts: Product[] }).topProducts.every((p) => p.inStock !== null))).toHaveLength(40);
  }, 180_000);
});

describe('a hung subgraph', () => {
  it('times out as SUBGRAPH_TIMEOUT, then the open circuit fails fast without calling it', async () => {
    const { gateway, hanging } = await stack.startGatewayWithHangingSubgraph('inventory', {
      // Inventory's own settings; the other subgraphs keep the defaults. No probe within this test:
      // every fetch that reaches the hung subgraph is one the breaker let through.
      SUBGRAPH_RESILIENCE_OVERRIDES: JSON.stringify({ inventory: { timeoutMs: 300, breakerWindow: 4, breakerMinCalls: 3, breakerHalfOpenMs: 600_000 } }),
      INBOUND_DEDUP: 'false',
    });
    const query = { query: '{ topProducts(first: 2) { upc name inStock } }' };
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { status, body } = await post(gateway.url, query);
      expect(status).toBe(200);
      expect((body.data as { topProducts: Array<{ name: string }> }).topProducts.map((p) => typeof p.name)).toEqual(['string', 'string']);
      expect(body.errors?.map((e) => e.path?.at(-1))).toEqual(['inStock', 'inStock']);
      codes.push(...body.errors!.map((e) => `${String(e.extensions?.code)}:${String(e.extensions?.reason)}`));
      expect(body.errors!.every((e: GraphQLError) => !NETWORK_DETAIL.test(e.message))).toBe(true);
    }
    expect(new Set(codes)).toEqual(new Set(['SUBGRAPH_TIMEOUT:timeout']));
    const reachedWhenOpen = hanging.requests();
    expect(reachedWhenOpen).toBe(3);
    expect(metric(await metricsOf(gateway), 'subgraph_circuit_state', { subgraph: 'inventory', state: 'open' })).toBe(1);

    // 20 more requests, 5 at a time: none of them reaches the hung subgraph.
    const failedFast = await load(20, 5, () => post(gateway.url, query));
    expect(hanging.requests()).toBe(reachedWhenOpen);
    for (const { status, body } of failedFast) {
      expect(status).toBe(200);
      expect(body.errors?.map((e) => [e.extensions?.code, e.extensions?.reason, e.extensions?.serviceName])).toEqual([
        ['SUBGRAPH_UNAVAILABLE', 'circuit_open', 'inventory'],
        ['SUBGRAPH_UNAVAILABLE', 'circuit_open', 'inventory'],
      ]);
    }
    const metrics = await metricsOf(gateway);
    expect(metric(metrics, 'subgraph_fetch_failures_total', { subgraph: 'inventory', code: 'SUBGRAPH_TIMEOUT', reason: 'timeout' })).toBe(3);
    expect(metric(metrics, 'subgraph_fetch_failures_total', { subgraph: 'inventory', code: 'SUBGRAPH_UNAVAILABLE', reason: 'circuit_open' })).toBe(20);
  });
});

describe('retries', () => {
  let proxy: FaultyProxy;
  beforeAll(async () => {
    proxy = await startFaultyProxy(stack.subgraphUrls.reviews);
    cleanups.push(() => proxy.close());
  });
  const REVIEWS_QUERY = { query: '{ topProducts(first: 2) { upc reviews(first: 1) { rating } } }' };
  // The breaker stays closed in these tests (more failed calls than ok ones would open it): only retries and the budget act.
  const CLOSED_BREAKER = { SUBGRAPH_BREAKER_WINDOW: '1000', SUBGRAPH_BREAKER_MIN_CALLS: '1000' };

  it('retry a query fetch after a 503 or a reset connection, and answer whole', async () => {
    const gateway = await stack.startGateway({ SUBGRAPH_URL_REVIEWS: proxy.url, INBOUND_DEDUP: 'false', ...CLOSED_BREAKER });
    for (const fault of [{ kind: 'status', status: 503 }, { kind: 'status', status: 502 }, { kind: 'reset' }] as const) {
      proxy.plan([fault]);
      const before = proxy.requests();
      const { body } = await post(gateway.url, REVIEWS_QUERY);
      expect([fault.kind, body.errors]).toEqual([fault.kind, undefined]);
      expect((body.data as { topProducts: Array<{ reviews: unknown[] }> }).topProducts.every((p) => Array.isArray(p.reviews))).toBe(true);
      // The failed call and its retry.
      expect(proxy.requests() - before).toBe(2);
    }
    expect(metric(await metricsOf(gateway), 'subgraph_retries_total', { subgraph: 'reviews', outcome: 'ok' })).toBe(3);
  });

  it('never retry a mutation fetch', async () => {
    const gateway = await stack.startGateway({ SUBGRAPH_URL_REVIEWS: proxy.url, INBOUND_DEDUP: 'false', SUBGRAPH_RETRIES: '3', ...CLOSED_BREAKER });
    const token = await tokenFor(5, { scope: 'reviews:write' });
    const mutation = { query: 'mutation ($input: AddReviewInput!) { addReview(input: $input) { id } }' };
    for (const fault of [{ kind: 'status', status: 503 }, { kind: 'reset' }] as const) {
      proxy.plan([fault]);
      const before = proxy.requests();
      const { status, body } = await post(
        gateway.url,
        { ...mutation, variables: { input: { upc: '048213000011', rating: 4, body: `not retried ${fault.kind} ${Date.now()}` } } },
        { authorization: `Bearer ${token}` },
      );
      expect(status).toBe(200);
      expect(body.errors?.[0]).toMatchObject({ path: ['addReview'], extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'reviews' } });
      expect(proxy.requests() - before).toBe(1);
    }
    // The same fault on a query fetch of the same gateway is retried.
    proxy.plan([{ kind: 'status', status: 503 }]);
    const before = proxy.requests();
    expect((await post(gateway.url, REVIEWS_QUERY)).body.errors).toBeUndefined();
    expect(proxy.requests() - before).toBe(2);
  });

  it('stop when the retry budget is spent', async () => {
    const gateway = await stack.startGateway({
      SUBGRAPH_URL_REVIEWS: proxy.url,
      INBOUND_DEDUP: 'false',
      SUBGRAPH_RETRIES: '1',
      SUBGRAPH_RETRY_BUDGET_RATIO: '0',
      SUBGRAPH_RETRY_BUDGET_MIN: '2',
      ...CLOSED_BREAKER,
    });
    proxy.plan([], { kind: 'status', status: 503 });
    const before = proxy.requests();
    for (let i = 0; i < 5; i++) {
      const { status, body } = await post(gateway.url, REVIEWS_QUERY);
      expect(status).toBe(200);
      expect(body.errors?.map((e) => [e.path?.at(-1), e.extensions?.code, e.extensions?.reason])).toEqual([
        ['reviews', 'SUBGRAPH_UNAVAILABLE', 'bad_status'],
        ['reviews', 'SUBGRAPH_UNAVAILABLE', 'bad_status'],
      ]);
    }
    proxy.plan([]);
    // 5 fetches, and 2 retries: the budget's floor; the other 3 were not retried.
    expect(proxy.requests() - before).toBe(7);
    const metrics = await metricsOf(gateway);
    expect(metric(metrics, 'subgraph_retries_total', { subgraph: 'reviews', outcome: 'failed' })).toBe(2);
    expect(metric(metrics, 'subgraph_retry_budget_exhausted_total', { subgraph: 'reviews' })).toBe(3);
  });
});

describe('subgraph faults in production', () => {
  it('keep their code, subgraph and reason, and the gateway’s own message', async () => {
    const production = await stack.startGateway({
      NODE_ENV: 'production',
      AUTH_JWT_SECRET: 'production-test-secret-0123456789abcdef',
      AUTH_JWT_ISSUER: 'https://id.shop.test/',
      AUTH_JWT_AUDIENCE: 'shop-api',
      SUBGRAPH_URL_INVENTORY: 'http://127.0.0.1:1/graphql',
    });
    const { status, body } = await post(production.url, { query: '{ topProducts(first: 1) { name inStock } }' });
    expect(status).toBe(200);
    expect(body.data).toEqual({ topProducts: [{ name: expect.any(String), inStock: null }] });
    expect(body.errors).toEqual([
      {
        message: 'The inventory service is unavailable, so this field is null. Retrying later may succeed.',
        path: ['topProducts', 0, 'inStock'],
        extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'inventory', reason: 'connection_failed', requestId: expect.any(String) },
      },
    ]);
  });

  it('refuse to start with overrides for a subgraph the supergraph does not have', async () => {
    await expect(stack.startGateway({ SUBGRAPH_RESILIENCE_OVERRIDES: '{"inventroy": {"retries": 0}}' })).rejects.toThrow(
      /SUBGRAPH_RESILIENCE_OVERRIDES: no subgraph named "inventroy" in the supergraph \(it has accounts, inventory, orders, products, reviews\)/,
    );
  });
});

describe('a subgraph that refuses the gateway’s internal token', () => {
  it('costs the caller its fields as SUBGRAPH_UNAVAILABLE (reason refused), never UNAUTHENTICATED', async () => {
    // A key no subgraph trusts: every fetch is answered 401 by the subgraph itself.
    const untrusted = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    const gateway = await stack.startGateway({ INTERNAL_SIGNING_KEY: JSON.stringify(untrusted), INTERNAL_SIGNING_KEY_ID: 'not-trusted' });
    const token = await tokenFor(1);
    for (const [subgraph, query, headers] of [
      ['products', '{ topProducts(first: 2) { upc name } }', {}],
      ['accounts', '{ me { id username } }', { authorization: `Bearer ${token}` }],
    ] as const) {
      const { status, body } = await post(gateway.url, { query }, headers);
      expect(status).toBe(200);
      expect(body.errors?.map((e) => [e.extensions?.code, e.extensions?.reason, e.extensions?.serviceName])).toEqual([
        ['SUBGRAPH_UNAVAILABLE', 'refused', subgraph],
      ]);
      expect(body.errors?.[0]?.message).toBe(
        `The ${subgraph} service refused the gateway's call, so this field is null. Retrying may succeed; if it keeps failing, the operators are alerted.`,
      );
    }
    const metrics = await metricsOf(gateway);
    expect(metric(metrics, 'subgraph_fetch_failures_total', { subgraph: 'products', code: 'SUBGRAPH_UNAVAILABLE', reason: 'refused' })).toBe(1);
    expect(metric(metrics, 'subgraph_fetch_failures_total', { subgraph: 'accounts', code: 'SUBGRAPH_UNAVAILABLE', reason: 'refused' })).toBe(1);
  });
});
