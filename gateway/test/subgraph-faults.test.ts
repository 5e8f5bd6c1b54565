import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@shop/observability';
import { ConfigError, generateStackTrust } from '@shop/service-kit';
import { startHangingSubgraph, until } from '@shop/test-support';
import { loadGatewayConfig, subgraphResilience } from '../src/config.ts';
import { subgraphFetcher } from '../src/pipeline.ts';
import { failedFetchResponse } from '../src/subgraph-fetch/failed-fetch.ts';
import { faultOf, SubgraphFault } from '../src/subgraph-fetch/faults.ts';
import { OPERATION_KIND_HEADER, resilientFetches } from '../src/subgraph-fetch/resilience.ts';
import { RetryBudget } from '../src/subgraph-fetch/retry-budget.ts';
import { AUDIENCE_HEADER } from '../src/subgraph-fetch/signing.ts';
import { subgraphTransport } from '../src/subgraph-fetch/transport.ts';

const unavailable = new SubgraphFault('inventory', 'connection_failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4003'), { code: 'ECONNREFUSED' }) });

describe('the answer of a failed subgraph fetch', () => {
  it('puts an error at each root field of a root fetch, by response name, and no data', () => {
    const query = 'query TopProducts__products__0 { top: topProducts(first: 2) { upc name } __typename products(first: 1) { edges { node { upc } } } }';
    const response = failedFetchResponse(unavailable, { document: parse(query), query });
    expect(response.data).toBeUndefined();
    expect(response.errors?.map((e) => e.path)).toEqual([['top'], ['products']]);
    expect(response.errors?.[0]).toEqual({
      message: 'The inventory service is unavailable, so this field is null. Retrying later may succeed.',
      path: ['top'],
      extensions: { code: 'SUBGRAPH_UNAVAILABLE', reason: 'connection_failed', serviceName: 'inventory' },
    });
  });

  it("puts an error at each field of each entity of an entity fetch, the fields of the entity's own type", () => {
    const query = `query Q__inventory__1($representations: [_Any!]!) {
      _entities(representations: $representations) {
        __typename
        ... on Product { inStock stock: quantity ...Shipping }
        ... on User { reviews { id } }
      }
    }
    fragment Shipping on Product { shippingEstimate __typename }`;
    const representations = [
      { __typename: 'Product', upc: '1' },
      { __typename: 'User', id: '7' },
      { __typename: 'Product', upc: '2' },
    ];
    const timedOut = new SubgraphFault('inventory', 'timeout');
    const response = failedFetchResponse(timedOut, { document: parse(query), variables: { representations } });
    expect(response.errors?.map((e) => e.path)).toEqual([
      ['_entities', 0, 'inStock'],
      ['_entities', 0, 'stock'],
      ['_entities', 0, 'shippingEstimate'],
      ['_entities', 1, 'reviews'],
      ['_entities', 2, 'inStock'],
      ['_entities', 2, 'stock'],
      ['_entities', 2, 'shippingEstimate'],
    ]);
    expect(new Set(response.errors?.map((e) => JSON.stringify(e.extensions)))).toEqual(
      new Set([JSON.stringify({ code: 'SUBGRAPH_TIMEOUT', reason: 'timeout', serviceName: 'inventory' })]),
    );
  });

  it('parses the query when the fetch has no document, and never says what the network said', () => {
    const response = failedFetchResponse(unavailable, { query: '{ me { id } }' });
    expect(response.errors?.map((e) => e.path)).toEqual([['me']]);
    expect(JSON.stringify(response)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|4003/);
  });

  it('classifies transport errors: connection errors and timeouts are faults, anything else is not', () => {
    const coded = (code: string) => Object.assign(new Error(code), { code });
    expect(faultOf(coded('ECONNREFUSED'), 'a')?.reason).toBe('connection_failed');
    expect(faultOf(coded('UND_ERR_SOCKET'), 'a')?.reason).toBe('connection_failed');
    expect(faultOf(coded('UND_ERR_HEADERS_TIMEOUT'), 'a')?.code).toBe('SUBGRAPH_TIMEOUT');
    expect(faultOf(new Error('A subgraph fetch has no audience'), 'a')).toBeNull();
  });
});

describe('the retry budget', () => {
  it('allows its floor, then the given share of the fetches in the window, and forgets old ones', () => {
    let now = 0;
    const budget = new RetryBudget({ ratio: 0.1, min: 2, windowMs: 10_000 }, () => now);
    const retries = () => {
      let allowed = 0;
      while (budget.tryRetry()) allowed += 1;
      return allowed;
    };
    expect(retries()).toBe(2);
    for (let i = 0; i < 50; i++) budget.recordFetch();
    expect(retries()).toBe(5);
    // A window later, the old fetches and retries are gone: the floor again.
    now = 10_500;
    expect(retries()).toBe(2);
  });
});

describe('resilience settings', () => {
  const key = { ...generateStackTrust().gatewayEnv, NODE_ENV: 'test' };

  it('has defaults, takes per-subgraph overrides and names bad ones', () => {
    const config = loadGatewayConfig({ ...key, SUBGRAPH_RESILIENCE_OVERRIDES: '{"inventory": {"timeoutMs": 2000, "retries": 0}}' });
    expect(subgraphResilience(config, 'products')).toEqual({
      timeoutMs: 10_000,
      retries: 2,
      retryDelayMs: 25,
      retryMaxDelayMs: 500,
      retryBudgetRatio: 0.1,
      retryBudgetMin: 10,
      breakerThreshold: 0.5,
      breakerWindow: 20,
      breakerMinCalls: 10,
      breakerHalfOpenMs: 1000,
    });
    expect(subgraphResilience(config, 'inventory')).toMatchObject({ timeoutMs: 2000, retries: 0, breakerWindow: 20 });

    const problems = (env: Record<string, string>) => {
      try {
        loadGatewayConfig({ ...key, ...env });
      } catch (error) {
        if (error instanceof ConfigError) return error.message;
        throw error;
      }
      return '';
    };
    expect(problems({ SUBGRAPH_RESILIENCE_OVERRIDES: '{inventory: 1}' })).toMatch(/SUBGRAPH_RESILIENCE_OVERRIDES: expected JSON such as/);
    expect(problems({ SUBGRAPH_RESILIENCE_OVERRIDES: '{"inventory": {"timeout": 5}}' })).toMatch(/SUBGRAPH_RESILIENCE_OVERRIDES: inventory: Unrecognized key/);
    expect(problems({ SUBGRAPH_RESILIENCE_OVERRIDES: '{"inventory": {"retries": -1}}' })).toMatch(/SUBGRAPH_RESILIENCE_OVERRIDES: inventory\.retries/);
    expect(problems({ SUBGRAPH_BREAKER_THRESHOLD: '1' })).toMatch(/SUBGRAPH_BREAKER_THRESHOLD: expected a share of calls strictly between 0 and 1/);
    expect(problems({ SUBGRAPH_BREAKER_MIN_CALLS: '30' })).toMatch(/SUBGRAPH_BREAKER_MIN_CALLS: \(defaults\): breakerMinCalls \(30\) must not exceed breakerWindow \(20\)/);
    expect(problems({ SUBGRAPH_RESILIENCE_OVERRIDES: '{"reviews": {"breakerWindow": 5}}' })).toMatch(/reviews: breakerMinCalls \(10\) must not exceed breakerWindow \(5\)/);
    expect(problems({ SUBGRAPH_RETRIES: 'many' })).toMatch(/SUBGRAPH_RETRIES: expected 0 \(no retries\) or a positive integer/);
  });
});

describe('the subgraph fetch layers', () => {
  it('give every caller sharing a deduplicated fetch its failure, after one call', async () => {
    const hanging = await startHangingSubgraph();
    const config = loadGatewayConfig({ ...generateStackTrust().gatewayEnv, NODE_ENV: 'test', SUBGRAPH_TIMEOUT_MS: '200' });
    const transport = subgraphTransport({ connections: 4, timeoutMs: 60_000 });
    const resilience = resilientFetches({
      settingsOf: (name) => subgraphResilience(config, name),
      logger: createLogger('test', 'silent'),
      events: { retried: () => {}, retryBudgetExhausted: () => {} },
    });
    const fetcher = subgraphFetcher(config, transport.fetcher, resilience);
    try {
      const init = {
        method: 'POST',
        headers: { 'content-type': 'application/json', [AUDIENCE_HEADER]: 'inventory', [OPERATION_KIND_HEADER]: 'query' },
        body: '{"query":"{ __typename }"}',
      };
      const results = await Promise.allSettled([fetcher(hanging.url, init), fetcher(hanging.url, init), fetcher(hanging.url, init)]);
      expect(results.map((r) => (r.status === 'rejected' && r.reason instanceof SubgraphFault ? r.reason.reason : r.status))).toEqual(['timeout', 'timeout', 'timeout']);
      expect(hanging.requests()).toBe(1);
    } finally {
      hanging.close();
      await transport.close();
    }
  });
  it('fail every caller fast while the circuit is not closed; the gateway probes the subgraph itself and closes it once it answers', async () => {
    // A subgraph that hangs until told to answer; it tells the gateway's probes from callers' fetches.
    let hang = true;
    const seen = { fetches: 0, probes: 0 };
    const held: ServerResponse[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (body.includes('SubgraphProbe')) seen.probes += 1;
        else seen.fetches += 1;
        if (hang) return void held.push(res);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ data: { __typename: 'Query' } }));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    const config = loadGatewayConfig({
      ...generateStackTrust().gatewayEnv,
      NODE_ENV: 'test',
      SUBGRAPH_TIMEOUT_MS: '300',
      SUBGRAPH_RETRIES: '0',
      SUBGRAPH_BREAKER_WINDOW: '2',
      SUBGRAPH_BREAKER_MIN_CALLS: '2',
      SUBGRAPH_BREAKER_THRESHOLD: '0.5',
      SUBGRAPH_BREAKER_HALF_OPEN_MS: '50',
    });
    const transport = subgraphTransport({ connections: 8, timeoutMs: 60_000 });
    const resilience = resilientFetches({
      settingsOf: (name) => subgraphResilience(config, name),
      logger: createLogger('test', 'silent'),
      events: { retried: () => {}, retryBudgetExhausted: () => {} },
    });
    const fetcher = subgraphFetcher(config, transport.fetcher, resilience);
    const reasons = (results: PromiseSettledResult<unknown>[]) =>
      results.map((r) => (r.status === 'rejected' && r.reason instanceof SubgraphFault ? r.reason.reason : r.status));
    const init = (n: number) => ({
      method: 'POST',
      headers: { 'content-type': 'application/json', [AUDIENCE_HEADER]: 'inventory', [OPERATION_KIND_HEADER]: 'query' },
      body: `{"query":"{ __typename }","variables":{"n":${n}}}`,
    });
    try {
      // Two different fetches time out: the circuit opens.
      expect(reasons(await Promise.allSettled([fetcher(url, init(1)), fetcher(url, init(2))]))).toEqual(['timeout', 'timeout']);
      expect(resilience.isClosed('inventory')).toBe(false);
      // The gateway's own probes reach the hung subgraph (and time out) without any caller.
      await until(() => seen.probes >= 2, { timeoutMs: 10_000, intervalMs: 20, what: 'two probes of the hung subgraph' });
      // Identical fetches meanwhile, open or probing: none waits, none reaches the subgraph, none joins another.
      for (let round = 0; round < 5; round++) {
        const results = await Promise.allSettled([fetcher(url, init(3)), fetcher(url, init(3)), fetcher(url, init(4))]);
        expect(reasons(results)).toEqual(['circuit_open', 'circuit_open', 'circuit_open']);
      }
      expect(seen.fetches).toBe(2);

      // The subgraph answers again: a probe closes the circuit with no caller's help, and fetches go through.
      hang = false;
      await until(() => resilience.isClosed('inventory'), { timeoutMs: 10_000, intervalMs: 20, what: 'the circuit closed by a probe' });
      expect(seen.fetches).toBe(2);
      const response = await fetcher(url, init(5));
      expect(response.status).toBe(200);
      expect(seen.fetches).toBe(3);
    } finally {
      resilience.close();
      for (const res of held) res.destroy();
      server.closeAllConnections();
      server.close();
      await transport.close();
    }
  });
});
