import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { declareEnforcedSecurityFeatures } from '@shop/gateway';
import { composeSupergraph, readSupergraphConfig } from '@shop/supergraph-tools';
import { BENCHMARK_QUERY, SUPERGRAPH_YAML } from '@shop/test-support';
import { correctOperation } from '../../src/correctness/operation-corrections.ts';
import { resolvableKeysFirst } from '../../src/correctness/resolvable-keys-first.ts';
import { plannerOf } from './plans.ts';

/**
 * The correctness stage changes nothing for the shop: its supergraph reaches the planner byte
 * for byte, and none of its operations is rewritten or refused, so Apollo plans (and answers)
 * each exactly as without the stage, which passes them through as they are.
 */
const composed = await composeSupergraph(await readSupergraphConfig(SUPERGRAPH_YAML));
if (!composed.ok) throw new Error(`the shop does not compose: ${JSON.stringify(composed.errors)}`);
/** The shop's supergraph as the gateway's file loader hands it on, before the correctness stage. */
const served = declareEnforcedSecurityFeatures(composed.supergraphSdl);

/** The shop's operations: the budgets', the benchmark query and the example web client's. */
function shopOperations(): Array<{ name: string; document: string }> {
  const budgets = JSON.parse(readFileSync(new URL('../../../tools/explain/budgets/operations.json', import.meta.url), 'utf8')) as {
    operations: Array<{ name: string; body?: string }>;
  };
  const client = readFileSync(new URL('../../../examples/web-client/src/operations.ts', import.meta.url), 'utf8');
  return [
    { name: 'benchmark', document: BENCHMARK_QUERY },
    ...budgets.operations.filter((o) => o.body).map((o) => ({ name: o.name, document: o.body! })),
    ...[...client.matchAll(/graphql\(`([^`]*)`/g)].map((m, i) => ({ name: `web-client ${i}`, document: m[1]! })),
  ];
}

describe('the shop with and without the correctness stage', () => {
  it('serves the shop supergraph to the planner unchanged', () => {
    expect(resolvableKeysFirst(served)).toBe(served);
  });

  const without = plannerOf(served);
  const withStage = plannerOf(resolvableKeysFirst(served));
  const operations = shopOperations();

  it('has @requires and operations to check, so the comparison is not vacuous', () => {
    expect(without.facts.requires.size).toBeGreaterThan(0);
    expect(operations.length).toBeGreaterThanOrEqual(7);
  });

  it.each(operations.map((o) => [o.name, o.document]))('%s: not rewritten or refused, and planned identically', (_name, document) => {
    const correction = correctOperation(withStage.facts, parse(document));
    expect(correction).toEqual({ kind: 'unchanged' });
    expect(withStage.plan(document)).toBe(without.plan(document));
  });
});
