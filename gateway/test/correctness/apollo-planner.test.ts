import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { correctOperation } from '../../src/correctness/operation-corrections.ts';
import { resolvableKeysFirst } from '../../src/correctness/resolvable-keys-first.ts';
import { compose } from '../conformance/harness.ts';
import { nestedRequiresArgumentCollision, nonResolvableKeyFirst, requiresArgumentCollision, requiresArgumentConflict, unimplementedInterface } from '../conformance/patterns.ts';
import { plannerOf } from './plans.ts';

/**
 * The correctness stage works around @apollo/query-planner (pinned in gateway/package.json) by
 * what it feeds the planner, never by patching it. These tests pin both halves at the plan
 * level: the planner still gets each pattern wrong the way the stage expects (when an upgrade
 * fixes one, its test fails and the work-around can go), and what the stage feeds it is planned
 * right (when an upgrade breaks the work-around, that test fails).
 */

/** The subgraph fetches of a printed plan, one string per fetch. */
const fetches = (plan: string) => plan.split(/Fetch\(service: /).slice(1);

describe('pattern 1: client arguments colliding with @requires arguments', () => {
  const { plan, facts } = plannerOf(compose(requiresArgumentCollision));
  const query = '{ feed { author { id } comments(limit: 1) { id } } }';

  it('Apollo merges the client’s comments(limit: 1) into the required comments(limit: 3)', () => {
    const [posts] = fetches(plan(query));
    expect(posts).toContain('comments(limit: 3)');
    expect(posts).not.toContain('comments(limit: 1)');
  });

  it('with the client’s field aliased, the posts fetch selects both, each with its own arguments', () => {
    const correction = correctOperation(facts, parse(query));
    expect(correction.kind).toBe('rewritten');
    if (correction.kind !== 'rewritten') return;
    const [alias] = [...correction.aliases.keys()];
    expect(correction.aliases.get(alias!)).toBe('comments');
    const [posts] = fetches(plan(correction.document));
    expect(posts).toContain('comments(limit: 3)');
    expect(posts).toContain(`${alias}: comments(limit: 1)`);
  });
});

describe('pattern 1, a level down', () => {
  const { plan, facts } = plannerOf(compose(nestedRequiresArgumentCollision));
  const query = '{ threads { participants comments { replies(first: 1) { id } } } }';

  it('Apollo merges the client’s replies(first: 1) into the required replies(first: 2)', () => {
    const [threads] = fetches(plan(query));
    expect(threads).toContain('replies(first: 2)');
    expect(threads).not.toContain('replies(first: 1)');
  });

  it('with the nested client field aliased, the fetch selects both', () => {
    const correction = correctOperation(facts, parse(query));
    if (correction.kind !== 'rewritten') throw new Error(`expected a rewrite, got ${correction.kind}`);
    const [threads] = fetches(plan(correction.document));
    expect(threads).toContain('replies(first: 2)');
    expect(threads).toMatch(/replies_args_\w+: replies\(first: 1\)/);
  });
});

describe('pattern 2: two @requires of one field with different arguments', () => {
  const { plan, facts } = plannerOf(compose(requiresArgumentConflict));
  const query = '{ product { usdGross eurGross } }';

  it('Apollo fetches one price variant for both', () => {
    const [catalog] = fetches(plan(query));
    expect(catalog!.match(/price\(currency:/g)).toHaveLength(1);
  });

  it('the stage refuses the pair, naming both fields', () => {
    const correction = correctOperation(facts, parse(query));
    expect(correction.kind).toBe('refused');
    if (correction.kind === 'refused') expect(correction.errors[0]!.extensions).toMatchObject({ fields: ['Product.usdGross', 'Product.eurGross'] });
  });
});

describe('pattern 3: a non-resolvable key listed first', () => {
  const sdl = compose(nonResolvableKeyFirst);
  const query = '{ outgoing { sku cost } }';

  it('Apollo re-enters shipping for cost by its first key, upc, which shipping cannot resolve', () => {
    const shipping = fetches(plannerOf(sdl).plan(query)).at(-1)!;
    expect(shipping).toMatch(/^"shipping"/);
    expect(shipping).toMatch(/weight\s+upc/);
  });

  it('with resolvable keys first, the plan re-enters shipping by sku', () => {
    const reordered = resolvableKeysFirst(sdl);
    expect(reordered).not.toBe(sdl);
    const shipping = fetches(plannerOf(reordered).plan(query)).at(-1)!;
    expect(shipping).toMatch(/^"shipping"/);
    expect(shipping).toMatch(/weight\s+sku/);
  });
});

describe('pattern 4: an interface without implementations', () => {
  const { plan, facts } = plannerOf(compose(unimplementedInterface));

  it('Apollo drops the branch: an empty plan, answered as a silent null', () => {
    expect(plan('{ a { label } }')).toBe('QueryPlan {}');
  });

  it('the stage refuses it with the field named', () => {
    const correction = correctOperation(facts, parse('{ a { label } }'));
    expect(correction.kind === 'refused' && correction.errors.map((e) => e.extensions.coordinate)).toEqual(['Thing.label']);
  });
});
