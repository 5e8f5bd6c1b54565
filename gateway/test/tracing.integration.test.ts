import { createHash } from 'node:crypto';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exporterFromEnv, readTracingConfig, startTracing, type Tracing } from '@shop/observability';
import { BENCHMARK_QUERY, startOtlpReceiver, tokenFor, until } from '@shop/test-support';
import { startTestStack, type TestStack } from '@shop/test-support/stack';
import { productUpc } from '@shop/db';

// Tracing starts before the services, as each service's entry point does; spans are kept in memory.
const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let stack: TestStack;
beforeAll(async () => {
  tracing = startTracing({ service: 'shop-test', env: { NODE_ENV: 'test' }, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
  await tracing?.shutdown();
});

const QUERY = `query TopProductsWithReviews {
  topProducts(first: 3) { upc name inStock reviews(first: 2) { body author { username } } }
}`;

const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

async function tracedRequest(query: string, headers: Record<string, string> = {}) {
  exporter.reset();
  const sha256Hash = createHash('sha256').update(query).digest('hex');
  const response = await fetch(stack.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'apollographql-client-name': 'trace-test', ...headers },
    body: JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash } } }),
  });
  const body = (await response.json()) as { data?: unknown; errors?: unknown };
  expect(body.errors).toBeUndefined();
  // The request span ends when the response is closed, just after the client has read it.
  const deadline = Date.now() + 5_000;
  const root = () => exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER && s.attributes['shop.service'] === 'gateway');
  while (!root() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return { spans: exporter.getFinishedSpans(), sha256Hash, root: root()! };
}

describe('one federated request is one trace', () => {
  it('sends a batched request under one fetch span; the other fetches it carried link to that span and name it', async () => {
    const { spans } = await tracedRequest(BENCHMARK_QUERY);
    const byId = new Map(spans.map((s) => [idOf(s), s]));
    const fetches = spans.filter((s) => s.name === 'gateway.fetch');
    // Each subgraph request is one SERVER span in its subgraph, under the fetch span that carried it.
    const carriers = new Set(spans.filter((s) => s.kind === SpanKind.SERVER && s.attributes['shop.service'] !== 'gateway').map((s) => parentOf(s)!));
    const linked = fetches.filter((f) => f.attributes['graphql.federation.batched_into'] !== undefined);
    expect(carriers.size).toBe(6);
    expect(linked.length).toBeGreaterThan(0);
    expect(linked.length + carriers.size).toBe(fetches.length);
    for (const fetch of linked) {
      const into = String(fetch.attributes['graphql.federation.batched_into']);
      expect(carriers.has(into)).toBe(true);
      expect(fetch.links.map((l) => l.context.spanId)).toEqual([into]);
      expect(byId.get(into)!.attributes['graphql.subgraph.name']).toBe(fetch.attributes['graphql.subgraph.name']);
      expect(fetch.attributes['graphql.subgraph.name']).toBe(fetch.attributes['service']);
    }
  });

  it('links gateway, subgraph fetches, DataLoader batches and SQL with the right parents and attributes', async () => {
    const { spans, root, sha256Hash } = await tracedRequest(QUERY);
    const byId = new Map(spans.map((s) => [idOf(s), s]));
    const ancestors = (span: ReadableSpan): ReadableSpan[] => {
      const chain: ReadableSpan[] = [];
      for (let p = byId.get(parentOf(span) ?? ''); p; p = byId.get(parentOf(p) ?? '')) chain.push(p);
      return chain;
    };

    // Exactly one trace, with exactly one root: the gateway's request span.
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
    expect(spans.filter((s) => !byId.has(parentOf(s) ?? ''))).toEqual([root]);
    expect(root.name).toBe('query TopProductsWithReviews');
    expect(root.attributes).toMatchObject({
      'graphql.operation.name': 'TopProductsWithReviews',
      'graphql.operation.type': 'query',
      'graphql.persisted_query.id': sha256Hash,
      'graphql.client.name': 'trace-test',
    });

    const named = (name: string) => spans.filter((s) => s.name === name);
    // Parse and validate at the gateway, and again in each subgraph under its own request span.
    for (const phase of ['graphql.parse', 'graphql.validate']) {
      expect(named(phase).filter((s) => parentOf(s) === idOf(root)), phase).toHaveLength(1);
      for (const span of named(phase)) expect(byId.get(parentOf(span)!)!.kind, phase).toBe(SpanKind.SERVER);
    }
    expect(named('gateway.request').map(parentOf)).toEqual([idOf(root)]);
    const [request] = named('gateway.request');
    expect(request!.attributes['graphql.query_plan.cache']).toBe('miss');
    expect(named('gateway.plan').map(parentOf)).toEqual([idOf(request!)]);
    const [execute] = named('gateway.execute');
    expect(parentOf(execute!)).toBe(idOf(request!));

    // Products (topProducts), then inventory and reviews (entities), then accounts (authors).
    const fetches = named('gateway.fetch');
    expect(fetches.map((f) => f.attributes['graphql.subgraph.name']).sort()).toEqual(['accounts', 'inventory', 'products', 'reviews']);
    for (const fetch of fetches) expect(ancestors(fetch)).toContain(execute);
    const entityFetch = fetches.find((f) => f.attributes['graphql.subgraph.name'] === 'reviews')!;
    expect(entityFetch.attributes['graphql.federation.entity_representations']).toBe(3);

    // Each fetch is continued by exactly one SERVER span in its subgraph.
    const subgraphSpans = spans.filter((s) => s.kind === SpanKind.SERVER && s !== root);
    expect(subgraphSpans).toHaveLength(fetches.length);
    for (const server of subgraphSpans) {
      const fetch = byId.get(parentOf(server)!)!;
      expect(fetch.name).toBe('gateway.fetch');
      expect(fetch.attributes['graphql.subgraph.name']).toBe(server.attributes['shop.service']);
    }

    // DataLoader batches run inside their subgraph's request; their SQL runs inside them.
    const batches = spans.filter((s) => s.name.startsWith('dataloader.batch '));
    const reviewsBatch = batches.find((b) => b.attributes['dataloader.name'] === 'reviews.reviewsByProduct');
    expect(reviewsBatch?.attributes['dataloader.batch_size']).toBe(3);
    const usersBatch = batches.find((b) => b.attributes['dataloader.name'] === 'accounts.userById');
    expect(usersBatch?.attributes['dataloader.batch_size']).toBeGreaterThan(0);
    for (const batch of batches) {
      const server = ancestors(batch).find((s) => s.kind === SpanKind.SERVER)!;
      expect(server.attributes['shop.service']).toBe(String(batch.attributes['dataloader.name']).split('.')[0]);
    }

    // Prisma's spans, down to each SQL statement, under the batch that sent it.
    const sql = spans.filter((s) => s.name.endsWith('db_query'));
    expect(sql.length).toBeGreaterThanOrEqual(batches.length);
    for (const statement of sql) {
      expect(statement.attributes['db.system']).toBe('postgresql');
      expect(String(statement.attributes['db.statement']).trim()).toMatch(/^SELECT/);
    }
    const sqlUnder = (batch: ReadableSpan) => sql.filter((s) => ancestors(s).includes(batch));
    expect(sqlUnder(reviewsBatch!)).toHaveLength(1);
    expect(String(sqlUnder(reviewsBatch!)[0]!.attributes['db.statement'])).toContain('reviews');
    expect(spans.some((s) => s.name.startsWith('prisma:client:operation'))).toBe(true);

    // Root resolvers that did work get spans; per-item entity fields do not (their batch has one).
    const resolverSpans = spans.filter((s) => s.name.startsWith('resolve '));
    expect(resolverSpans.map((s) => s.name)).toEqual(['resolve Query.topProducts']);
    expect(resolverSpans[0]!.attributes['graphql.field.path']).toBe('topProducts');
  });

  it('follows the orders subgraph’s own call to products inside the same trace', async () => {
    const token = await tokenFor(3);
    const mutation = `mutation TracedOrder { placeOrder(input: {lines: [{upc: "${productUpc(1)}", quantity: 1}]}, idempotencyKey: "traced-order-${Date.now()}") { id total } }`;
    const { spans, root } = await tracedRequest(mutation, { authorization: `Bearer ${token}` });
    expect(root.attributes['graphql.operation.type']).toBe('mutation');
    const byId = new Map(spans.map((s) => [idOf(s), s]));
    const call = spans.find((s) => s.name === 'fetch products' && s.kind === SpanKind.CLIENT)!;
    const ordersServer = byId.get(parentOf(call)!)!;
    expect(ordersServer.attributes['shop.service']).toBe('orders');
    const productsServer = spans.find((s) => s.kind === SpanKind.SERVER && parentOf(s) === idOf(call))!;
    expect(productsServer.attributes['shop.service']).toBe('products');
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
  });

  it('marks a repeated operation as a query plan cache hit, with no planning span', async () => {
    const { spans } = await tracedRequest(QUERY);
    const request = spans.find((s) => s.name === 'gateway.request')!;
    expect(request.attributes['graphql.query_plan.cache']).toBe('hit');
    expect(spans.some((s) => s.name === 'gateway.plan')).toBe(false);
  });

  it('continues the trace of a caller that sent a traceparent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const { spans, root } = await tracedRequest(QUERY, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    expect(root.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));
  });
});

describe('call report', () => {
  it('lists every subgraph fetch, batch and SQL statement of the benchmark query, matching what the subgraphs counted', async () => {
    let body: { extensions?: { callReport?: { totals: Record<string, number>; calls: Array<{ kind: string }>; queryPlan: string } } } = {};
    const measured = await stack.measure(async () => {
      const response = await fetch(stack.gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-call-report': '1' },
        body: JSON.stringify({ query: BENCHMARK_QUERY }),
      });
      body = (await response.json()) as typeof body;
    });
    const report = body.extensions!.callReport!;
    const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
    expect(report.totals.subgraphFetches).toBe(sum(measured.fetches));
    expect(report.totals.sqlStatements).toBe(sum(measured.sql));
    expect(report.calls.filter((c) => c.kind === 'sql')).toHaveLength(sum(measured.sql));
    expect(report.totals.dataLoaderBatches).toBeGreaterThan(0);
    expect(report.queryPlan).toContain('QueryPlan');
  });

  it('is never returned by a production gateway, even when asked for', async () => {
    const production = await stack.startGateway({
      NODE_ENV: 'production',
      AUTH_JWT_SECRET: 'a-production-secret-of-at-least-32-characters',
      AUTH_JWT_ISSUER: 'https://id.shop.test/',
      AUTH_JWT_AUDIENCE: 'shop-api',
    });
    const response = await fetch(production.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-call-report': '1', baggage: 'shop.call_report=1' },
      body: JSON.stringify({ query: '{ topProducts(first: 1) { name reviews { body } } }' }),
    });
    const body = (await response.json()) as { data?: unknown; extensions?: unknown };
    expect(body.data).toBeDefined();
    expect(body).not.toHaveProperty('extensions.callReport');
  });

  it('is not returned unless asked for', async () => {
    const response = await stack.query('{ topProducts(first: 1) { name } }');
    expect(response.body).not.toHaveProperty('extensions.callReport');
  });
});

describe('OTLP/HTTP export', () => {
  it.each([
    ['http/protobuf', 'application/x-protobuf'],
    ['http/json', 'application/json'],
  ])('sends the whole trace of a federated request in %s, as the standard variables select', async (protocol, contentType) => {
    const { spans } = await tracedRequest(QUERY);
    const receiver = await startOtlpReceiver();
    try {
      const exporter = exporterFromEnv(
        readTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: protocol }),
      )!;
      const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(spans, resolve));
      expect(result.error).toBeUndefined();
      await exporter.shutdown();

      expect(receiver.contentTypes).toEqual([contentType]);
      const key = (s: { traceId: string; spanId: string; parentSpanId: string; name: string }) =>
        `${s.traceId}/${s.parentSpanId}/${s.spanId}/${s.name}`;
      expect(receiver.spans.map(key).sort()).toEqual(
        spans.map((s) => key({ ...s.spanContext(), parentSpanId: s.parentSpanContext?.spanId ?? '', name: s.name })).sort(),
      );
      expect(new Set(receiver.spans.map((s) => s.service))).toEqual(new Set(['shop-test']));
      const sql = receiver.spans.find((s) => s.name.endsWith('db_query'))!;
      expect(sql.attributes['db.system']).toBe('postgresql');
    } finally {
      await receiver.close();
    }
  });

  it('exports nothing unless an endpoint or OTEL_TRACES_EXPORTER=otlp is set', () => {
    expect(exporterFromEnv(readTracingConfig({}))).toBeNull();
    expect(exporterFromEnv(readTracingConfig({ OTEL_TRACES_EXPORTER: 'otlp' }))).not.toBeNull();
    expect(() => readTracingConfig({ OTEL_TRACES_SAMPLER_ARG: '1.5' })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
  });
});

describe('admission control in the trace', () => {
  it('records how long a request waited for an execution slot on its span', async () => {
    // Accounts never answers: the first request holds the only slot until the test lets go.
    const { gateway, hanging } = await stack.startGatewayWithHangingSubgraph('accounts', {
      MAX_CONCURRENT_OPERATIONS: '1',
      INBOUND_DEDUP: 'false',
    });
    exporter.reset();
    const send = (query: string, client: string) =>
      fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', 'apollographql-client-name': client }, body: JSON.stringify({ query }) });
    const first = send('{ users(first: 1) { id } }', 'holds-the-slot');
    await until(() => hanging.connections() > 0, { intervalMs: 10 });
    const second = send('{ topProducts(first: 1) { upc } }', 'waits');
    await new Promise((r) => setTimeout(r, 150));
    hanging.release();
    await Promise.all([(await first).text(), (await second).text()]);

    const serverSpan = (client: string) =>
      exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER && s.attributes['shop.service'] === 'gateway' && s.attributes['graphql.client.name'] === client);
    await until(() => Boolean(serverSpan('waits') && serverSpan('holds-the-slot')), { timeoutMs: 5_000, intervalMs: 10 });
    expect(serverSpan('holds-the-slot')?.attributes['gateway.admission.wait_ms']).toBeUndefined();
    expect(serverSpan('waits')?.attributes['gateway.admission.wait_ms']).toBeGreaterThanOrEqual(100);
  });
});
