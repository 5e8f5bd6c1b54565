import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '@shop/test-support/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const QUERY = 'query MetricsProbe { topProducts(first: 4) { name reviews(first: 2) { body } } }';

/** A service's /metrics: the gateway's on its internal metrics listener, a subgraph's beside its /graphql. */
async function scrape(service: 'gateway' | string): Promise<string> {
  const response = await fetch(service === 'gateway' ? `${stack.gateway.metricsUrl}/metrics` : service.replace(/\/graphql$/, '/metrics'));
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return response.text();
}

/** The value of the one sample of `name` whose labels include `labels` (Prometheus text format). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const wanted = Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`));
    if (wanted) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('/metrics', () => {
  it('is served on the gateway\'s internal listener on loopback, and not on the public port', async () => {
    expect(new URL(stack.gateway.metricsUrl!).hostname).toBe('127.0.0.1');
    expect(new URL(stack.gateway.metricsUrl!).port).not.toBe(new URL(stack.gatewayUrl).port);
    const publicPort = await fetch(stack.gatewayUrl.replace(/\/graphql$/, '/metrics'));
    expect(publicPort.status).toBe(404);
    // Health and readiness stay where orchestrators probe them.
    expect((await fetch(stack.gatewayUrl.replace(/\/graphql$/, '/ready'))).status).toBe(200);
    expect((await fetch(stack.gatewayUrl.replace(/\/graphql$/, '/health'))).status).toBe(200);
    // METRICS_PORT=off: no listener at all.
    const off = await stack.startGateway({ METRICS_PORT: 'off' });
    expect(off.metricsUrl).toBeNull();
  });

  it('counts requests, errors and duration per operation and client, fetches per subgraph, and plan cache hits at the gateway', async () => {
    const headers = { 'apollographql-client-name': 'metrics-test' };
    const measured = await stack.measure(async () => {
      for (let i = 0; i < 3; i += 1) expect((await stack.query(QUERY, undefined, { headers })).body.errors).toBeUndefined();
    });
    expect((await stack.query('query Broken { noSuchField }', undefined, { headers })).status).toBe(400);
    // Refused at the HTTP layer, before GraphQL: still counted, by status.
    const refused = await fetch(stack.gatewayUrl, { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: '{}' });
    expect(refused.status).toBe(415);

    const text = await scrape('gateway');
    const op = { service: 'gateway', operation: 'MetricsProbe', client: 'metrics-test' };
    expect(sample(text, 'graphql_requests_total', { ...op, outcome: 'ok' })).toBe(3);
    expect(sample(text, 'graphql_request_duration_seconds_count', op)).toBe(3);
    expect(sample(text, 'graphql_requests_total', { operation: 'Broken', outcome: 'GRAPHQL_VALIDATION_FAILED' })).toBe(1);
    expect(sample(text, 'graphql_requests_total', { operation: 'anonymous', client: 'metrics-test', outcome: 'BAD_REQUEST' })).toBe(1);
    for (const subgraph of ['products', 'reviews'] as const) {
      expect(sample(text, 'subgraph_fetches_total', { subgraph, outcome: 'ok' })).toBe(measured.fetches[subgraph]);
      expect(sample(text, 'subgraph_fetch_duration_seconds_count', { subgraph })).toBe(measured.fetches[subgraph]);
      // One plan fetch per request here: nothing of this query goes to one subgraph in the same wave.
      expect(sample(text, 'subgraph_plan_fetches_total', { subgraph })).toBe(measured.fetches[subgraph]);
    }
    // The three that were planned ran through our executor (the suite's verify mode answers with it too).
    expect(sample(text, 'gateway_plan_executions_total', { executor: 'compiled' })).toBe(3);
    expect(sample(text, 'gateway_plan_executions_total', { executor: 'apollo' }) ?? 0).toBe(0);
    expect(sample(text, 'cache_lookups_total', { cache: 'query_plan', result: 'miss' })).toBe(1);
    expect(sample(text, 'cache_lookups_total', { cache: 'query_plan', result: 'hit' })).toBe(2);
    expect(sample(text, 'nodejs_eventloop_lag_seconds', { service: 'gateway' })).toBeGreaterThanOrEqual(0);
  });

  it('counts SQL statements and DataLoader batch sizes per client operation, and pool use, in each subgraph', async () => {
    const measured = await stack.measure(() => stack.query(QUERY));
    const text = await scrape(stack.subgraphUrls.reviews);
    const op = { service: 'reviews', operation: 'MetricsProbe' };
    // Four runs of the operation so far (three in the test above), each one batch of four products.
    expect(sample(text, 'graphql_sql_statements_count', op)).toBe(4);
    expect(sample(text, 'graphql_sql_statements_sum', op)).toBe(4 * measured.sql.reviews);
    expect(sample(text, 'dataloader_batch_size_count', { ...op, loader: 'reviews.reviewsByProduct' })).toBe(4);
    expect(sample(text, 'dataloader_batch_size_sum', { ...op, loader: 'reviews.reviewsByProduct' })).toBe(16);
    expect(sample(text, 'db_pool_connections', { service: 'reviews', state: 'max' })).toBe(5);
    expect(sample(text, 'db_pool_connections', { service: 'reviews', state: 'total' })).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_eventloop_lag_seconds', { service: 'reviews' })).toBeGreaterThanOrEqual(0);
  });

  it('counts persisted query cache hits and misses at the gateway', async () => {
    const query = 'query PersistedProbe { topProducts(first: 1) { name } }';
    const persistedQuery = { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') };
    const send = (body: Record<string, unknown>) =>
      fetch(stack.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
        (r) => r.json() as Promise<{ errors?: Array<{ extensions?: { code?: string } }> }>,
      );
    const before = await scrape('gateway');
    const count = (text: string, result: string) => sample(text, 'cache_lookups_total', { cache: 'persisted_query', result }) ?? 0;

    // The usual automatic-persisted-query exchange: hash only (miss), hash and query (registers), hash only (hit).
    expect((await send({ extensions: { persistedQuery } })).errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await send({ query, extensions: { persistedQuery } })).errors).toBeUndefined();
    expect((await send({ extensions: { persistedQuery } })).errors).toBeUndefined();
    expect((await send({ extensions: { persistedQuery } })).errors).toBeUndefined();

    const after = await scrape('gateway');
    expect(count(after, 'miss') - count(before, 'miss')).toBe(1);
    expect(count(after, 'hit') - count(before, 'hit')).toBe(2);
  });
});
