import { describe, expect, it } from 'vitest';
import { outcomeOf, phaseStats, recoveryOf } from '../src/classify.ts';
import type { Sample } from '../src/load.ts';
import { operationMix } from '../src/operations.ts';
import { scaleForDurations } from '../src/prometheus.ts';

const sample = (overrides: Partial<Sample>): Sample => ({
  op: 'topProducts',
  start: 0,
  end: 10,
  status: 200,
  codes: [],
  missing: [],
  refused: 0,
  closed: 0,
  apqMiss: false,
  leak: false,
  ...overrides,
});

describe('chaos classification', () => {
  const inventory = new Set(['inventory'] as const);

  it('counts an answer lacking only the faulted part as degraded, and one lacking any other part as failed outside it', () => {
    expect(outcomeOf(sample({}), inventory)).toBe('ok');
    expect(outcomeOf(sample({ codes: ['SUBGRAPH_UNAVAILABLE'], missing: ['inventory'] }), inventory)).toBe('degraded');
    expect(outcomeOf(sample({ codes: ['INTERNAL_SERVER_ERROR'], missing: ['products', 'inventory'] }), inventory)).toBe('failed');
    expect(outcomeOf(sample({ status: 500, codes: ['INTERNAL_SERVER_ERROR'], missing: ['inventory'] }), inventory)).toBe('failed');
    // With nothing faulted (Redis down), a missing field is a failure.
    expect(outcomeOf(sample({ missing: ['inventory'] }), new Set())).toBe('failed');

    const stats = phaseStats(
      [
        sample({}),
        sample({ codes: ['SUBGRAPH_UNAVAILABLE'], missing: ['inventory'], end: 30 }),
        sample({ status: null, codes: ['ECONNREFUSED'], missing: ['products'], refused: 3, end: 1000 }),
      ],
      inventory,
    );
    expect(stats).toMatchObject({ requests: 3, ok: 1, degraded: 1, failed: 1, outside: 1, refused: 3, maxMs: 1000 });
    expect(stats.byStatus).toEqual({ '200': 2, network: 1 });
    expect(stats.byCode).toEqual({ SUBGRAPH_UNAVAILABLE: 1, ECONNREFUSED: 1 });
  });

  it('measures recovery to the sending of the first request answered fully correct after the repair, among operations that read the faulted part', () => {
    const samples = [
      sample({ start: 90, end: 150 }), // sent before the repair: does not count
      sample({ start: 110, end: 120, missing: ['inventory'] }),
      sample({ op: 'me', start: 115, end: 118 }), // does not read inventory
      sample({ start: 130, end: 160 }),
      sample({ start: 170, end: 180, missing: ['inventory'] }),
    ];
    const recovery = recoveryOf(samples, 100, (s) => s.op === 'topProducts');
    expect(recovery).toEqual({ recoveredMs: 30, answerMs: 30, badAfter: 1 });
    expect(recoveryOf(samples.slice(0, 3), 100, (s) => s.op === 'topProducts').recoveredMs).toBeNull();
  });

  it("finds which subgraph's fields an answer lacks", () => {
    const [topProducts] = operationMix({ runId: 't', tokens: ['x'] });
    const product = { upc: '1', name: 'n', price: 1, inStock: true, quantity: 2, averageRating: 4, reviews: [{ rating: 5, author: { username: 'u' } }] };
    expect([...topProducts!.missing({ data: { topProducts: [product] } })]).toEqual([]);
    expect([...topProducts!.missing({ data: { topProducts: [{ ...product, inStock: null, quantity: null }] } })]).toEqual(['inventory']);
    expect([...topProducts!.missing({ data: { topProducts: [{ ...product, reviews: [{ rating: 5, author: null }] }] } })]).toEqual(['accounts']);
    expect([...topProducts!.missing({ data: null })].sort()).toEqual(['accounts', 'inventory', 'products', 'reviews']);
  });

  it("scales the alert rules' for: durations and leaves everything else as written", () => {
    const rules = 'rules:\n  - alert: A\n    expr: rate(x[5m]) > 0\n    for: 5m\n  - alert: B\n    for: 1m\n  - alert: C\n    for: 30s\n';
    expect(scaleForDurations(rules, 0.1)).toBe('rules:\n  - alert: A\n    expr: rate(x[5m]) > 0\n    for: 30s\n  - alert: B\n    for: 6s\n  - alert: C\n    for: 3s\n');
    expect(scaleForDurations(rules, 1)).toBe(rules);
  });
});
