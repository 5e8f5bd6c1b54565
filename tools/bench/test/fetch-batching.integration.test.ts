import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig, startGateway, type RunningGateway } from '@shop/gateway';
import { CALL_REPORT_HEADER, createLogger, type CallReport } from '@shop/observability';
import { generateStackTrust } from '@shop/service-kit';
import { composeSupergraphFile } from '@shop/supergraph-tools';
import { BENCHMARK_QUERY } from '@shop/test-support';
import { REFERENCE_NAMES, referenceSchemaUrl, startReferenceSubgraphs, type ReferenceSubgraphs } from '../src/reference-subgraphs.ts';

// The reference benchmark query through our gateway with plans scheduled in waves and each
// wave's fetches to a subgraph sent as one request (SUBGRAPH_BATCHING, the default), and without:
// the same bytes answered, in 6 subgraph requests instead of Apollo's 16.

const expectedText = readFileSync(new URL('../reference/expected-response.json', import.meta.url), 'utf8');

let subgraphs: ReferenceSubgraphs;
let batching: RunningGateway;
let plain: RunningGateway;
let dir: string;

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** One request sent alone: its answer, and the subgraph requests and request bytes it caused. */
async function alone(gateway: RunningGateway, headers: Record<string, string> = {}) {
  const fetchesBefore = subgraphs.fetches();
  const bytesBefore = subgraphs.requestBytes();
  const response = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: BENCHMARK_QUERY }) });
  const text = await response.text();
  const fetchesAfter = subgraphs.fetches();
  const bytesAfter = subgraphs.requestBytes();
  const perSubgraph = Object.fromEntries(REFERENCE_NAMES.map((n) => [n, fetchesAfter[n] - fetchesBefore[n]]));
  return { status: response.status, text, perSubgraph, fetches: sum(perSubgraph), bytes: sum(bytesAfter) - sum(bytesBefore) };
}

beforeAll(async () => {
  const quiet = createLogger('reference', 'silent');
  subgraphs = await startReferenceSubgraphs(quiet);
  dir = await mkdtemp(join(tmpdir(), 'shop-fetch-batching-'));
  const supergraphPath = join(dir, 'supergraph.graphql');
  await composeSupergraphFile(
    {
      federationVersion: '=2.7.0',
      subgraphs: REFERENCE_NAMES.map((name) => ({ name, routingUrl: subgraphs.urls[name], schemaFile: fileURLToPath(referenceSchemaUrl(name)) })),
    },
    supergraphPath,
    { routingUrls: subgraphs.urls },
  );
  const env = { ...generateStackTrust().gatewayEnv, NODE_ENV: 'development', SUPERGRAPH_PATH: supergraphPath, HOST: '127.0.0.1', PORT: '0', METRICS_PORT: '0' };
  batching = await startGateway(loadGatewayConfig(env), quiet);
  plain = await startGateway(loadGatewayConfig({ ...env, SUBGRAPH_BATCHING: 'false' }), quiet);
});
afterAll(async () => {
  await batching?.close();
  await plain?.close();
  await subgraphs?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the reference query, batched in waves (SUBGRAPH_BATCHING)', () => {
  it('makes 6 subgraph requests where Apollo’s plan makes 16, answering the expected response byte for byte', async () => {
    const off = await alone(plain);
    const on = await alone(batching);
    expect(off.status).toBe(200);
    expect(on.status).toBe(200);
    expect(JSON.parse(on.text)).toEqual(JSON.parse(expectedText));
    expect(on.text).toBe(off.text);

    expect(off.fetches).toBe(16);
    expect(on.fetches).toBe(6);
    // One request per subgraph per wave: accounts and products, reviews, products, inventory and accounts.
    expect(on.perSubgraph).toEqual({ accounts: 2, products: 2, inventory: 1, reviews: 1 });
    // Each distinct representation sent once: the request bodies shrink with the request count.
    expect(on.bytes).toBeLessThan(off.bytes / 3);
    console.log(`reference query alone: ${off.fetches} requests, ${off.bytes} request bytes without batching; ${on.fetches} requests, ${on.bytes} bytes with`);

    // Planned once: the second run is the same requests from the cached, scheduled plan.
    const again = await alone(batching);
    expect(again.fetches).toBe(6);
    expect(again.text).toBe(on.text);
  });

  it('shows the waves and the merged fetches in the call report (npm run explain)', async () => {
    const response = await fetch(batching.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CALL_REPORT_HEADER]: '1' },
      body: JSON.stringify({ query: BENCHMARK_QUERY }),
    });
    const report = ((await response.json()) as { extensions: { callReport: CallReport } }).extensions.callReport;
    expect(report.totals?.subgraphFetches).toBe(6);
    expect(report.totals?.planFetches).toBe(16);
    expect(report.waves).toEqual([{ accounts: 1, products: 1 }, { reviews: 2 }, { products: 3 }, { inventory: 7, accounts: 2 }]);
    const fetches = report.calls.filter((c) => c.kind === 'fetch');
    expect(fetches.map((c) => c.fetches).reduce((a, b) => a! + b!, 0)).toBe(16);
  });

  it('exports the plan fetches the requests carried beside the requests, per subgraph', async () => {
    const total = async (name: string) => {
      const text = await (await fetch(`${batching.metricsUrl}/metrics`)).text();
      return [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
    };
    const [requestsBefore, planBefore] = [await total('subgraph_fetches_total'), await total('subgraph_plan_fetches_total')];
    await alone(batching);
    expect((await total('subgraph_fetches_total')) - requestsBefore).toBe(6);
    expect((await total('subgraph_plan_fetches_total')) - planBefore).toBe(16);
  });
});
