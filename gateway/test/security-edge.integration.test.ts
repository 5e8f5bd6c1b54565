import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPersistedStore } from '../src/persisted/open-store.ts';
import type { PersistedStore } from '../src/persisted/types.ts';
import { TEST_REDIS_URL, tokenFor } from '@shop/test-support';
import { startTestStack, type TestStack } from '@shop/test-support/stack';

// A determined caller against the gateway's edge: addresses it writes itself, one user's traffic
// against a whole client, credentials guessed without end, and unregistered callers under
// trusted documents. Each gateway here gets its own Redis prefix, so counters and clients are its own.

let stack: TestStack;
const stores: PersistedStore[] = [];
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  await stack?.stop();
});

type Body = { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Body };
}
const QUERY = { query: '{ topProducts(first: 1) { upc } }' };
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
let gateways = 0;
/** A gateway with its own Redis prefix, and the persisted store under that prefix (clients, manifests). */
async function gatewayWith(env: Record<string, string>) {
  const prefix = `${stack.redisPrefix}sec${(gateways += 1)}:`;
  const store = openPersistedStore({ redisUrl: TEST_REDIS_URL, dir: stack.persistedDir, redisPrefix: `${prefix}pq:` });
  stores.push(store);
  return { prefix, store, start: () => stack.startGateway({ REDIS_PREFIX: prefix, ...env }) };
}

describe('the client address', () => {
  it('is taken from the right of X-Forwarded-For, as far as the trusted proxy wrote it: a client cannot pick its own', async () => {
    const gateway = await (await gatewayWith({ TRUST_PROXY: 'true', RATE_LIMIT_IP: '5' })).start();
    const statuses: number[] = [];
    // The client writes the left part; the load balancer appends the address it saw.
    for (let i = 0; i < 8; i += 1) statuses.push((await post(gateway.url, QUERY, { 'x-forwarded-for': `10.9.9.${i}, 203.0.113.7` })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    // Another address, as the proxy saw it, has its own allowance.
    expect((await post(gateway.url, QUERY, { 'x-forwarded-for': '203.0.113.8' })).status).toBe(200);
  });

  it('ignores X-Forwarded-For when no proxy is trusted', async () => {
    const gateway = await (await gatewayWith({ RATE_LIMIT_IP: '3' })).start();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await post(gateway.url, QUERY, { 'x-forwarded-for': `203.0.113.${i}` })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});

describe('client rate limits', () => {
  it('count each user of a token client on their own: one user cannot lock the client\'s other users out', async () => {
    const setup = await gatewayWith({ RATE_LIMIT_CLIENT: '3' });
    await setup.store.putClient({ name: 'webapp', policy: 'off', apiKeyHash: null, createdAt: new Date().toISOString() });
    const gateway = await setup.start();
    const seven = { authorization: `Bearer ${await tokenFor(7, { clientId: 'webapp' })}` };
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await post(gateway.url, QUERY, seven)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await post(gateway.url, QUERY, seven);
    expect(limited.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', scope: 'user of this client' });
    expect((await post(gateway.url, QUERY, { authorization: `Bearer ${await tokenFor(8, { clientId: 'webapp' })}` })).status).toBe(200);
  });

  it('hold all users of one client to its ceiling when one is set', async () => {
    const setup = await gatewayWith({ RATE_LIMIT_CLIENT: '100', RATE_LIMIT_CLIENT_CEILING: '4' });
    await setup.store.putClient({ name: 'webapp', policy: 'off', apiKeyHash: null, createdAt: new Date().toISOString() });
    const gateway = await setup.start();
    const statuses: number[] = [];
    for (const user of [1, 2, 3, 4, 5]) statuses.push((await post(gateway.url, QUERY, { authorization: `Bearer ${await tokenFor(user, { clientId: 'webapp' })}` })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });
});

describe('failed credentials', () => {
  it('are counted per address: past the limit, credentials from there are refused before they are verified', async () => {
    const setup = await gatewayWith({ RATE_LIMIT_AUTH_FAILURES: '3' });
    const gateway = await setup.start();
    const statuses: number[] = [];
    for (let i = 0; i < 2; i += 1) statuses.push((await post(gateway.url, QUERY, { authorization: `Bearer guessed.token.${i}` })).status);
    statuses.push((await post(gateway.url, QUERY, { 'x-api-key': 'shop_guessed_key_0123456789abcdef' })).status);
    statuses.push((await post(gateway.url, QUERY, { authorization: 'Bearer guessed.token.again' })).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    // Now even a valid token from this address waits for the window; a caller without credentials does not.
    expect((await post(gateway.url, QUERY, { authorization: `Bearer ${await tokenFor(7)}` })).status).toBe(429);
    expect((await post(gateway.url, QUERY)).status).toBe(200);
  });

  it('do not count when the credentials verify', async () => {
    const gateway = await (await gatewayWith({ RATE_LIMIT_AUTH_FAILURES: '1' })).start();
    const token = `Bearer ${await tokenFor(7)}`;
    for (let i = 0; i < 3; i += 1) expect((await post(gateway.url, QUERY, { authorization: token })).status).toBe(200);
  });
});

describe('trusted documents for unregistered callers', () => {
  it('hold them to the default client\'s published operations under PQ_DEFAULT_POLICY=enforce, PQ_DEFAULT_CLIENT', async () => {
    const setup = await gatewayWith({ PQ_DEFAULT_POLICY: 'enforce', PQ_DEFAULT_CLIENT: 'webapp' });
    const published = { id: sha256('query Home { topProducts(first: 2) { upc name } }'), name: 'Home', type: 'query' as const, body: 'query Home { topProducts(first: 2) { upc name } }' };
    const partnerOnly = { id: 'op-partner-only', name: 'PartnerOnly', type: 'query' as const, body: 'query PartnerOnly { topProducts(first: 3) { upc price } }' };
    await setup.store.putClient({ name: 'webapp', policy: 'enforce', apiKeyHash: null, createdAt: new Date().toISOString() });
    await setup.store.putClient({ name: 'partner', policy: 'enforce', apiKeyHash: sha256('shop_partner_key_0123456789abcdef'), createdAt: new Date().toISOString() });
    await setup.store.publishManifest('webapp', 'web', [published]);
    await setup.store.publishManifest('partner', 'catalog', [partnerOnly]);
    const gateway = await setup.start();
    const byId = (id: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: id } } });

    // The partner's free-form query without the partner's key is not served under a laxer policy.
    const freeForm = await post(gateway.url, { query: partnerOnly.body });
    expect([freeForm.status, freeForm.body.errors?.[0]?.extensions?.code]).toEqual([400, 'PERSISTED_QUERY_REQUIRED']);
    const notListed = await post(gateway.url, byId(partnerOnly.id));
    expect([notListed.status, notListed.body.errors?.[0]?.extensions?.code]).toEqual([400, 'PERSISTED_QUERY_NOT_IN_LIST']);
    const home = await post(gateway.url, byId(published.id));
    expect(home.status).toBe(200);
    expect(home.body.data?.topProducts).toHaveLength(2);
  });
});

describe('trusted documents under enforce', () => {
  it('let no free-form operation in over GET or inside a batch, beside a published one', async () => {
    const setup = await gatewayWith({});
    const apiKey = 'shop_partner_get_key_0123456789abcdef';
    const listed = { id: 'op-partner-top', name: 'PartnerTop', type: 'query' as const, body: 'query PartnerTop { topProducts(first: 1) { upc } }' };
    await setup.store.putClient({ name: 'partner', policy: 'enforce', apiKeyHash: sha256(apiKey), createdAt: new Date().toISOString() });
    await setup.store.publishManifest('partner', 'catalog', [listed]);
    const gateway = await setup.start();
    const headers = { 'x-api-key': apiKey, 'apollo-require-preflight': 'true' };
    const byId = { extensions: { persistedQuery: { version: 1, sha256Hash: listed.id } } };

    const get = (params: Record<string, string>) =>
      fetch(`${gateway.url}?${new URLSearchParams(params)}`, { headers }).then(async (r) => ({ status: r.status, body: (await r.json()) as Body }));
    const freeGet = await get({ query: '{ users(first: 5) { id email } }' });
    expect([freeGet.status, freeGet.body.errors?.[0]?.extensions?.code]).toEqual([400, 'PERSISTED_QUERY_REQUIRED']);
    const listedGet = await get({ extensions: JSON.stringify(byId.extensions) });
    expect([listedGet.status, listedGet.body.data?.topProducts]).toEqual([200, [expect.objectContaining({ upc: expect.any(String) })]]);

    const batch = await post(gateway.url, [byId, { query: '{ users(first: 5) { id email } }' }], headers);
    expect([batch.status, batch.body.errors?.[0]?.extensions?.code]).toEqual([400, 'PERSISTED_QUERY_REQUIRED']);
  });
});
