import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBGRAPHS, type SubgraphName } from '@shop/db';
import { createInternalSigner, INTERNAL_TOKEN_HEADER, parsePrivateKey, type InternalSigner } from '@shop/service-kit';
import { tokenFor } from '@shop/test-support';
import { startTestStack, type TestStack } from '@shop/test-support/stack';

/**
 * Only the gateway acts for a user on a subgraph: every subgraph, over real HTTP, refuses any
 * request the gateway's key did not sign for exactly that subgraph, path, body and moment, once.
 */
let stack: TestStack;
let gateway: InternalSigner;
let orders: InternalSigner;
beforeAll(async () => {
  stack = await startTestStack();
  gateway = createInternalSigner({ issuer: 'gateway', privateKey: parsePrivateKey(stack.trust.gateway.privateKey), keyId: stack.trust.gateway.keyId });
  orders = createInternalSigner({ issuer: 'orders', privateKey: parsePrivateKey(stack.trust.orders.privateKey), keyId: stack.trust.orders.keyId });
});
afterAll(async () => {
  await stack?.stop();
});

const BODY = JSON.stringify({ query: '{ _service { sdl } }' });
const USER = { userId: 7, scopes: ['orders:read', 'orders:write', 'reviews:write'] };

interface Answer {
  status: number;
  body: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

async function send(url: string, options: { token?: string; body?: string; method?: string } = {}): Promise<Answer> {
  const method = options.method ?? 'POST';
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(options.token ? { [INTERNAL_TOKEN_HEADER]: options.token } : {}) },
    ...(method === 'POST' ? { body: options.body ?? BODY } : {}),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

/** The path and query string of a subgraph URL, as the token binds them. */
const targetOf = (url: string) => {
  const { pathname, search } = new URL(url);
  return `${pathname}${search}`;
};

const signed = (signer: InternalSigner, name: SubgraphName, claims = USER, overrides: { target?: string; body?: string; method?: string; now?: number } = {}) =>
  signer.sign(
    { audience: name, method: overrides.method ?? 'POST', target: overrides.target ?? targetOf(stack.subgraphUrls[name]), body: overrides.body ?? BODY },
    claims,
    overrides.now,
  );

function expectRefused(answer: Answer, code: string): void {
  expect(answer.status).toBe(401);
  expect(answer.body.errors?.[0]?.extensions?.code).toBe(code);
}

describe.each(SUBGRAPHS.map((name) => [name] as const))('the %s subgraph', (name) => {
  const url = () => stack.subgraphUrls[name];

  it('answers a request the gateway signed for it', async () => {
    const answer = await send(url(), { token: await signed(gateway, name) });
    expect(answer.status).toBe(200);
    expect(answer.body.data?._service).toBeDefined();
  });

  it('refuses an unsigned request', async () => {
    expectRefused(await send(url()), 'INTERNAL_TOKEN_MISSING');
  });

  it("refuses any key but the gateway's, its key id and issuer claimed or not", async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const impostor = createInternalSigner({ issuer: 'gateway', privateKey, keyId: stack.trust.gateway.keyId });
    expectRefused(await send(url(), { token: await signed(impostor, name) }), 'INTERNAL_TOKEN_INVALID');
    // Another service's key (one a subgraph really holds), as the gateway.
    const ordersAsGateway = createInternalSigner({ issuer: 'gateway', privateKey: parsePrivateKey(stack.trust.orders.privateKey), keyId: stack.trust.orders.keyId });
    expectRefused(await send(url(), { token: await signed(ordersAsGateway, name) }), 'INTERNAL_TOKEN_INVALID');
    // A subgraph that names itself: "reviews" holds no key anyone trusts.
    const reviews = createInternalSigner({ issuer: 'reviews', privateKey, keyId: 'reviews-1' });
    expectRefused(await send(url(), { token: await signed(reviews, name) }), 'INTERNAL_TOKEN_INVALID');
  });

  it("refuses a subgraph's own key claiming a user", async () => {
    // Products and inventory trust orders' key, for orders' own price look-ups and stock reservations, but never for a
    // user; the others do not trust it at all.
    const answer = await send(url(), { token: await signed(orders, name, { userId: 7, scopes: ['orders:read'] }) });
    expectRefused(answer, name === 'products' || name === 'inventory' ? 'INTERNAL_CLAIMS_NOT_ALLOWED' : 'INTERNAL_TOKEN_INVALID');
  });

  it('refuses a replayed request', async () => {
    const token = await signed(gateway, name);
    expect((await send(url(), { token })).status).toBe(200);
    expectRefused(await send(url(), { token }), 'INTERNAL_TOKEN_REPLAYED');
  });

  it('refuses a request signed for another path, query string or subgraph', async () => {
    expectRefused(await send(url(), { token: await signed(gateway, name, USER, { target: '/' }) }), 'INTERNAL_TOKEN_MISMATCH');
    expectRefused(await send(`${url()}?operation=x`, { token: await signed(gateway, name) }), 'INTERNAL_TOKEN_MISMATCH');
    const other = name === 'accounts' ? 'products' : 'accounts';
    expectRefused(await send(url(), { token: await signed(gateway, other, USER, { target: targetOf(url()) }) }), 'INTERNAL_TOKEN_MISMATCH');
  });

  it('refuses a stale or future token', async () => {
    expectRefused(await send(url(), { token: await signed(gateway, name, USER, { now: Date.now() - 60_000 }) }), 'INTERNAL_TOKEN_EXPIRED');
    expectRefused(await send(url(), { token: await signed(gateway, name, USER, { now: Date.now() + 30_000 }) }), 'INTERNAL_TOKEN_EXPIRED');
  });

  it('refuses a GET with ?query=, even with a token signed for it', async () => {
    const get = `${url()}?query=${encodeURIComponent('{ _service { sdl } }')}`;
    expectRefused(await send(get, { method: 'GET' }), 'INTERNAL_POST_ONLY');
    const token = await signed(gateway, name, USER, { method: 'GET', target: targetOf(get), body: '' });
    expectRefused(await send(get, { method: 'GET', token }), 'INTERNAL_POST_ONLY');
  });

  it('refuses a body other than the one signed, the empty one included', async () => {
    const token = () => signed(gateway, name);
    expectRefused(await send(url(), { token: await token(), body: JSON.stringify({ query: '{ __typename }' }) }), 'INTERNAL_TOKEN_MISMATCH');
    expectRefused(await send(url(), { token: await signed(gateway, name, USER, { body: '' }) }), 'INTERNAL_TOKEN_MISMATCH');
    expect((await send(url(), { token: await token() })).status).toBe(200);
  });
});

describe('mutations check their scope in the subgraph too', () => {
  const PLACE_ORDER = JSON.stringify({
    query: 'mutation { placeOrder(input: { lines: [{ upc: "048213000011", quantity: 1 }] }, idempotencyKey: "internal-trust-scope-1") { id } }',
  });
  const ADD_REVIEW = JSON.stringify({ query: 'mutation { addReview(input: { upc: "048213000011", rating: 5, body: "Signed but not allowed." }) { id } }' });

  it('placeOrder without orders:write and addReview without reviews:write are refused, though correctly signed', async () => {
    const readOnly = { userId: 7, scopes: ['orders:read'] };
    const order = await send(stack.subgraphUrls.orders, { body: PLACE_ORDER, token: await signed(gateway, 'orders', readOnly, { body: PLACE_ORDER }) });
    expect(order.status).toBe(200);
    expect(order.body.data ?? null).toBeNull();
    expect(order.body.errors?.[0]?.extensions?.code).toBe('UNAUTHORIZED');
    expect(order.body.errors?.[0]?.message).toMatch(/orders:write/);

    const review = await send(stack.subgraphUrls.reviews, { body: ADD_REVIEW, token: await signed(gateway, 'reviews', readOnly, { body: ADD_REVIEW }) });
    expect(review.body.data ?? null).toBeNull();
    expect(review.body.errors?.[0]?.extensions?.code).toBe('UNAUTHORIZED');
    expect(review.body.errors?.[0]?.message).toMatch(/reviews:write/);
  });

  it("orders still prices a new order at products under its own identity, through the gateway", async () => {
    const response = await stack.query<{ placeOrder: { id: string; lines: Array<{ unitPrice: number }> } }>(
      'mutation { placeOrder(input: { lines: [{ upc: "048213000011", quantity: 1 }] }, idempotencyKey: "internal-trust-priced-1") { id lines { unitPrice } } }',
      {},
      { token: await tokenFor(7) },
    );
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.placeOrder.lines[0]?.unitPrice).toBeGreaterThan(0);
  });

  it("a self-signed token cannot read another user's orders", async () => {
    const body = JSON.stringify({ query: '{ _entities(representations: [{ __typename: "User", id: "7" }]) { ... on User { orders { id } } } }' });
    const answer = await send(stack.subgraphUrls.orders, { body, token: await signed(orders, 'orders', { userId: 7, scopes: ['orders:read'] }, { body }) });
    expectRefused(answer, 'INTERNAL_TOKEN_INVALID');
  });
});
