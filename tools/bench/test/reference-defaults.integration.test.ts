import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig, startGateway, type RunningGateway } from '@shop/gateway';
import { createLogger } from '@shop/observability';
import { generateStackTrust } from '@shop/service-kit';
import { composeSupergraphFile } from '@shop/supergraph-tools';
import { BENCHMARK_QUERY } from '@shop/test-support';
import { REFERENCE_NAMES, referenceSchemaUrl, startReferenceSubgraphs, type ReferenceSubgraphs } from '../src/reference-subgraphs.ts';

// A default must not refuse legitimate traffic: our gateway, with nothing configured but its keys
// and the supergraph, in front of the reference benchmark's subgraphs (no @cost, no @listSize),
// answers the reference query in full. Its estimated cost (every list at the default size) is
// over the default cost limit: measured, logged and exported, not refused.

const expected = JSON.parse(readFileSync(new URL('../reference/expected-response.json', import.meta.url), 'utf8')) as unknown;

let subgraphs: ReferenceSubgraphs;
let gateway: RunningGateway;
let dir: string;
const logLines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  const quiet = createLogger('reference', 'silent');
  subgraphs = await startReferenceSubgraphs(quiet);
  dir = await mkdtemp(join(tmpdir(), 'shop-reference-defaults-'));
  const supergraphPath = join(dir, 'supergraph.graphql');
  await composeSupergraphFile(
    {
      federationVersion: '=2.7.0',
      subgraphs: REFERENCE_NAMES.map((name) => ({ name, routingUrl: subgraphs.urls[name], schemaFile: fileURLToPath(referenceSchemaUrl(name)) })),
    },
    supergraphPath,
    { routingUrls: subgraphs.urls },
  );
  const lines = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const config = loadGatewayConfig({ ...generateStackTrust().gatewayEnv, NODE_ENV: 'development', SUPERGRAPH_PATH: supergraphPath, HOST: '127.0.0.1', PORT: '0', METRICS_PORT: '0' });
  gateway = await startGateway(config, createLogger('gateway', 'info', lines));
});
afterAll(async () => {
  await gateway?.close();
  await subgraphs?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the gateway with its defaults on the reference benchmark', () => {
  it('answers the reference query in full, and measures and logs its cost instead of refusing it', async () => {
    const response = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: BENCHMARK_QUERY }) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(expected);

    const logged = logLines.find((line) => line.msg?.toString().startsWith('operation over the default cost limit'));
    expect(logged).toMatchObject({ operationName: 'TestQuery', defaultLimit: 10_000 });
    // Every list at the default size of 10: the estimate that refused this query before.
    expect(logged?.cost).toBe(24_420);

    // Asked again, it is served again and not logged again: one line per operation, not per request.
    const again = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: BENCHMARK_QUERY }) });
    expect(again.status).toBe(200);
    expect(logLines.filter((line) => line.msg?.toString().startsWith('operation over the default cost limit'))).toHaveLength(1);
  });

  it('exports the estimated cost, marked not enforced, for operators to pick a limit from', async () => {
    const metrics = await (await fetch(`${gateway.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/gateway_operation_estimated_cost_count\{[^}]*operation="TestQuery"[^}]*enforced="false"[^}]*\} 2/);
    expect(metrics).toMatch(/gateway_operation_estimated_cost_bucket\{[^}]*le="10000"[^}]*operation="TestQuery"[^}]*enforced="false"[^}]*\} 0/);
  });
});
