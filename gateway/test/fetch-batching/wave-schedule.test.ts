import { Supergraph, operationFromDocument } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type FlattenNode, type PlanNode, type QueryPlan } from '@apollo/query-planner';
import { OperationTypeNode, parse } from 'graphql';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scheduleInWaves, waveSummaryOf } from '../../src/fetch-batching/wave-schedule.ts';
import { featureShop } from '../conformance/features.ts';
import { compose } from '../conformance/harness.ts';

// Plans built by hand (and, at the end, by Apollo's own planner) scheduled in waves: the checker
// below derives each fetch's dependencies from the plan as Apollo made it, independently of
// wave-schedule.ts, and verifies the scheduled plan never runs a fetch before (or beside) one it
// depended on, runs every fetch exactly once, and is the Sequence-of-Parallel shape it promises.

let counter = 0;
/** A root or entity fetch; each gets its own operation text so it is recognisable in failures. */
function fetchNode(serviceName: string, extra: Partial<FetchNode> = {}): FetchNode {
  counter += 1;
  return {
    kind: 'Fetch',
    serviceName,
    variableUsages: [],
    operation: `{ f${counter} }`,
    operationName: undefined,
    operationKind: OperationTypeNode.QUERY,
    ...extra,
  };
}
const root = (serviceName: string) => fetchNode(serviceName);
/** An entity fetch at `path`, as Apollo writes it: a Flatten around a Fetch with `requires`. */
const entity = (serviceName: string, path: string[], requires = 'id'): FlattenNode => ({
  kind: 'Flatten',
  path,
  node: fetchNode(serviceName, {
    requires: [{ kind: 'InlineFragment', typeCondition: 'T', selections: [{ kind: 'Field', name: '__typename' }, { kind: 'Field', name: requires }] }],
  }),
});
const seq = (...nodes: PlanNode[]): PlanNode => ({ kind: 'Sequence', nodes });
const par = (...nodes: PlanNode[]): PlanNode => ({ kind: 'Parallel', nodes });
const plan = (node: PlanNode): QueryPlan => ({ kind: 'QueryPlan', node });

const fetchOf = (node: PlanNode): FetchNode => (node.kind === 'Flatten' ? (node.node as FetchNode) : (node as FetchNode));

/**
 * For every fetch of a plan, the fetches that must have completed before it starts: everything
 * earlier in an enclosing Sequence, transitively. Keyed by the Fetch node object (scheduling
 * reuses Apollo's nodes, so the same object stands for the same fetch in both plans).
 */
function mustPrecede(node: PlanNode): Map<FetchNode, Set<FetchNode>> {
  const result = new Map<FetchNode, Set<FetchNode>>();
  const walk = (n: PlanNode, before: ReadonlySet<FetchNode>): Set<FetchNode> => {
    // Returns every fetch inside `n`: all of them precede what follows `n` in a Sequence.
    switch (n.kind) {
      case 'Fetch':
      case 'Flatten': {
        const f = fetchOf(n);
        expect(result.has(f), 'a fetch appears once').toBe(false);
        result.set(f, new Set(before));
        return new Set([f]);
      }
      case 'Sequence': {
        const acc = new Set(before);
        const inside = new Set<FetchNode>();
        for (const child of n.nodes) {
          for (const f of walk(child, new Set(acc))) {
            acc.add(f);
            inside.add(f);
          }
        }
        return inside;
      }
      case 'Parallel': {
        const inside = new Set<FetchNode>();
        for (const child of n.nodes) for (const f of walk(child, before)) inside.add(f);
        return inside;
      }
      default:
        throw new Error(`unexpected ${n.kind} in a plan the checker reads`);
    }
  };
  walk(node, new Set());
  return result;
}

/** The scheduled plan's waves, checked to be Sequence[Parallel|unit...] (or one step alone). */
function wavesOf(scheduled: QueryPlan): FetchNode[][] {
  const node = scheduled.node as PlanNode;
  const steps = node.kind === 'Sequence' ? node.nodes : [node];
  return steps.map((step) => {
    const members = step.kind === 'Parallel' ? step.nodes : [step];
    for (const member of members) {
      expect(['Fetch', 'Flatten']).toContain(member.kind);
      if (member.kind === 'Flatten') expect(member.node.kind).toBe('Fetch');
    }
    return members.map(fetchOf);
  });
}

/** Schedules `original` and verifies the result against the dependencies of the original. */
function scheduleAndCheck(original: QueryPlan): { scheduled: QueryPlan; waveOf: Map<FetchNode, number>; waves: FetchNode[][] } {
  const before = JSON.stringify(original);
  const deps = mustPrecede(original.node as PlanNode);
  const scheduled = scheduleInWaves(original);
  // Apollo caches the plan it made: scheduling builds a new one and leaves the original as it was.
  expect(JSON.stringify(original)).toBe(before);
  const waves = wavesOf(scheduled);
  const waveOf = new Map<FetchNode, number>();
  waves.forEach((members, w) => members.forEach((f) => waveOf.set(f, w)));
  expect(waves.flat()).toHaveLength(deps.size);
  expect(new Set(waveOf.keys())).toEqual(new Set(deps.keys()));
  for (const [f, needs] of deps) {
    for (const d of needs) expect(waveOf.get(d)!, `${f.operation} runs strictly after ${d.operation}`).toBeLessThan(waveOf.get(f)!);
  }
  // The scheduled plan, read as a plan again, orders at least everything the original did.
  const scheduledDeps = mustPrecede(scheduled.node as PlanNode);
  for (const [f, needs] of deps) for (const d of needs) expect(scheduledDeps.get(f)!.has(d)).toBe(true);
  return { scheduled, waveOf, waves };
}

describe('scheduleInWaves: dependencies', () => {
  it('keeps a @requires chain A → B → C to one subgraph in three waves, in order', () => {
    const a = root('products');
    const b = entity('products', ['products', '@'], 'score');
    const c = entity('products', ['products', '@'], 'label');
    const { waveOf, scheduled } = scheduleAndCheck(plan(seq(a, b, c)));
    expect([waveOf.get(a), waveOf.get(fetchOf(b)), waveOf.get(fetchOf(c))]).toEqual([0, 1, 2]);
    expect(waveSummaryOf(scheduled)).toEqual({ planFetches: 3, waves: [{ products: 1 }, { products: 1 }, { products: 1 }] });
  });

  it('keeps a chain that alternates subgraphs (products → reviews → products) in order', () => {
    const a = root('products');
    const b = entity('reviews', ['products', '@'], 'price');
    const c = entity('products', ['products', '@'], 'score');
    const { waveOf } = scheduleAndCheck(plan(seq(a, b, c)));
    expect([waveOf.get(a), waveOf.get(fetchOf(b)), waveOf.get(fetchOf(c))]).toEqual([0, 1, 2]);
  });

  it('brings the fetches of parallel branches at the same depth into one wave', () => {
    // Parallel[Seq[A(accounts), B(reviews)], Seq[C(products), D(reviews)]]: B and D in wave 1 together.
    const a = root('accounts');
    const b = entity('reviews', ['me']);
    const c = root('products');
    const d = entity('reviews', ['products', '@']);
    const { waveOf, scheduled } = scheduleAndCheck(plan(par(seq(a, b), seq(c, d))));
    expect(waveOf.get(fetchOf(b))).toBe(1);
    expect(waveOf.get(fetchOf(d))).toBe(1);
    expect(waveSummaryOf(scheduled)).toEqual({ planFetches: 4, waves: [{ accounts: 1, products: 1 }, { reviews: 2 }] });
  });

  it('runs a fetch after a Parallel only once every branch of it has completed', () => {
    // Seq[Par[A, Seq[B, C]], D]: D depends on A, B and C, so it waits for C's wave.
    const a = root('accounts');
    const b = root('products');
    const c = entity('inventory', ['products', '@']);
    const d = entity('accounts', ['products', '@']);
    const { waveOf } = scheduleAndCheck(plan(seq(par(a, seq(b, c)), d)));
    expect(waveOf.get(fetchOf(d))).toBe(2);
  });

  it('holds for deeper mixed plans (the shape of the reference benchmark query)', () => {
    // accounts+products at the root; reviews for both; products for the reviews; inventory and
    // accounts at the end, some of it waiting on nothing after it.
    const plans = [
      plan(
        seq(
          par(root('accounts'), root('products')),
          par(entity('reviews', ['me']), entity('reviews', ['topProducts', '@'])),
          par(entity('products', ['me', 'reviews', '@', 'product']), entity('products', ['topProducts', '@', 'reviews', '@', 'product'])),
          par(entity('inventory', ['topProducts', '@']), entity('accounts', ['topProducts', '@', 'reviews', '@', 'author'])),
        ),
      ),
      plan(
        par(
          seq(root('a'), par(entity('b', ['x']), seq(entity('c', ['x']), entity('b', ['x', 'y']))), entity('a', ['x', 'z'])),
          seq(root('b'), entity('c', ['w']), par(entity('a', ['w', 'v']), entity('c', ['w', 'u']))),
          root('c'),
          seq(root('d'), entity('a', ['q'])),
        ),
      ),
      plan(seq(root('a'), par(seq(entity('b', ['x']), entity('a', ['x', 'y'])), entity('a', ['x'])), entity('b', ['x', 'y', 'z']))),
    ];
    for (const p of plans) scheduleAndCheck(p);
  });
});

describe('scheduleInWaves: fetches nothing waits on', () => {
  it('join a later wave that already calls the same subgraph', () => {
    // Parallel[Seq[A(a), B(b)], C(b)]: C waits on nothing and nothing waits on it; B must be in
    // wave 1, so C joins it there: one request to b instead of two.
    const a = root('a');
    const b = entity('b', ['x']);
    const c = root('b');
    const { waveOf, scheduled } = scheduleAndCheck(plan(par(seq(a, b), c)));
    expect(waveOf.get(c)).toBe(1);
    expect(waveSummaryOf(scheduled)).toEqual({ planFetches: 3, waves: [{ a: 1 }, { b: 2 }] });
  });

  it('stay in their earliest wave when no later wave calls their subgraph', () => {
    const a = root('a');
    const b = entity('b', ['x']);
    const c = root('c');
    const { waveOf } = scheduleAndCheck(plan(par(seq(a, b), c)));
    expect(waveOf.get(c)).toBe(0);
  });

  it('never move past a fetch that depends on them', () => {
    // Seq[Par[A(b), B(a)], C(a), D(b), E(b)]: A is needed by C (wave 1), so although b is called
    // again in waves 2 and 3, A cannot leave wave 0.
    const a = root('b');
    const b = root('a');
    const c = entity('a', ['x']);
    const d = entity('b', ['x', 'y']);
    const e = entity('b', ['x', 'y', 'z']);
    const { waveOf } = scheduleAndCheck(plan(seq(par(a, b), c, d, e)));
    expect(waveOf.get(a)).toBe(0);
  });

  it('join the wave where a chain ends at the same subgraph', () => {
    // Parallel[X(b), Seq[P(a), a, a, Y(b)]]: Y can only be in wave 3; X, waiting on nothing, joins it.
    const x = root('b');
    const y = entity('b', ['p', 'q', 'r']);
    const { waveOf } = scheduleAndCheck(plan(par(x, seq(root('a'), entity('a', ['p']), entity('a', ['p', 'q']), y))));
    expect(waveOf.get(x)).toBe(3);
    expect(waveOf.get(fetchOf(y))).toBe(3);
  });

  it('with no fixed wave of their subgraph to join, share one wave among themselves', () => {
    // X(b) at the root and Y(b) after P(c): neither has dependents nor a wave it must be in, so
    // they meet in one wave (one request to b) rather than one each in waves 0 and 1.
    const x = root('b');
    const y = entity('b', ['p']);
    const { waveOf, scheduled } = scheduleAndCheck(plan(par(x, seq(root('c'), y), seq(root('a'), entity('a', ['q']), entity('a', ['q', 'r'])))));
    expect(waveOf.get(x)).toBe(waveOf.get(fetchOf(y)));
    expect(waveSummaryOf(scheduled)!.waves.filter((w) => 'b' in w)).toEqual([expect.objectContaining({ b: 2 })]);
  });
});

describe('scheduleInWaves: plans left as Apollo made them', () => {
  const mutationFetch = (): FetchNode => fetchNode('a', { operation: 'mutation { m }', operationKind: OperationTypeNode.MUTATION });

  it('leaves a plan with a mutation fetch as the same object', () => {
    const p = plan(seq(mutationFetch(), par(entity('b', ['m']), entity('c', ['m']))));
    expect(scheduleInWaves(p)).toBe(p);
    expect(waveSummaryOf(p)).toBeUndefined();
  });

  it('leaves a plan with a Condition (@skip/@include on a variable) as the same object', () => {
    const p = plan(par(root('a'), { kind: 'Condition', condition: 'withB', ifClause: seq(root('b'), entity('a', ['x'])) }));
    expect(scheduleInWaves(p)).toBe(p);
  });

  it('leaves a plan with a Defer node as the same object', () => {
    const p = plan({
      kind: 'Defer',
      primary: { subselection: '{ a }', node: root('a') },
      deferred: [{ depends: [], queryPath: ['a'], subselection: '{ b }', node: seq(root('b'), entity('a', ['b'])) }],
    });
    expect(scheduleInWaves(p)).toBe(p);
  });

  it('leaves a fetch with hasDefers as the same object', () => {
    const p = plan(seq(fetchNode('a', { hasDefers: true }), entity('b', ['x'])));
    expect(scheduleInWaves(p)).toBe(p);
  });

  it('leaves a subscription plan as the same object', () => {
    const p: QueryPlan = { kind: 'QueryPlan', node: { kind: 'Subscription', primary: fetchNode('a', { operationKind: OperationTypeNode.SUBSCRIPTION }), rest: entity('b', ['x']) } };
    expect(scheduleInWaves(p)).toBe(p);
  });

  it('leaves a Flatten around something other than a fetch as the same object', () => {
    const p = plan(seq(root('a'), { kind: 'Flatten', path: ['x'], node: seq(root('b'), root('c')) }));
    expect(scheduleInWaves(p)).toBe(p);
  });

  it('leaves a single-fetch plan (root or nested in one-element nodes) and an empty plan unchanged', () => {
    const single = plan(root('a'));
    expect(scheduleInWaves(single)).toBe(single);
    const wrapped = plan(seq(par(root('a'))));
    expect(scheduleInWaves(wrapped)).toBe(wrapped);
    const empty: QueryPlan = { kind: 'QueryPlan' };
    expect(scheduleInWaves(empty)).toBe(empty);
    expect(waveSummaryOf(single)).toBeUndefined();
  });
});

describe('waveSummaryOf', () => {
  it('counts the plan fetches and, per wave, the fetches to each subgraph', () => {
    const { scheduled } = scheduleAndCheck(
      plan(
        seq(
          par(root('accounts'), root('products')),
          par(entity('reviews', ['me']), entity('reviews', ['topProducts', '@'])),
          par(entity('inventory', ['topProducts', '@']), entity('accounts', ['topProducts', '@', 'reviews', '@', 'author']), entity('inventory', ['me'])),
        ),
      ),
    );
    expect(waveSummaryOf(scheduled)).toEqual({
      planFetches: 7,
      waves: [{ accounts: 1, products: 1 }, { reviews: 2 }, { inventory: 2, accounts: 1 }],
    });
  });
});

describe('scheduleInWaves on the plans Apollo’s planner makes for the feature shop', () => {
  const supergraph = Supergraph.build(compose(featureShop));
  const planner = new QueryPlanner(supergraph);
  const planOf = (query: string) => planner.buildQueryPlan(operationFromDocument(supergraph.schema, parse(query)));

  it.each([
    '{ reviews { body author { id email } product { upc name price } } }',
    '{ products { upc label } }',
    '{ me { email reviews { body product { name label } } } }',
    '{ media { id title rating ... on Book { writer } } }',
    '{ search { ... on Review { body product { label } } ... on User { email reviews { product { price } } } } }',
    '{ products { label } reviews { author { email } product { label } } me { reviews { author { email } } } }',
  ])('keeps every dependency of %s', (query) => {
    const original = planOf(query);
    if (scheduleInWaves(original) === original) return; // one fetch: nothing to schedule
    const { scheduled } = scheduleAndCheck(original);
    const summary = waveSummaryOf(scheduled)!;
    expect(summary.planFetches).toBe(mustPrecede(original.node as PlanNode).size);
    expect(summary.waves.flatMap((w) => Object.values(w)).reduce((a, b) => a + b, 0)).toBe(summary.planFetches);
  });

  it('schedules the @requires chain products → reviews → products in three waves', () => {
    const { waves } = scheduleAndCheck(planOf('{ products { upc label } }'));
    expect(waves.map((w) => w.map((f) => f.serviceName))).toEqual([['products'], ['reviews'], ['products']]);
  });
});

describe('scheduleInWaves on random plans (fast-check)', () => {
  /** A random plan tree: Sequence and Parallel nodes over root and entity fetches to three subgraphs. */
  const planNode: fc.Memo<PlanNode> = fc.memo((depth) =>
    depth <= 1
      ? fc.oneof(
          fc.constantFrom('a', 'b', 'c').map((s) => root(s) as PlanNode),
          fc.constantFrom('a', 'b', 'c').map((s) => entity(s, ['x', '@']) as PlanNode),
        )
      : fc.oneof(
          { arbitrary: planNode(1), weight: 2 },
          { arbitrary: fc.array(planNode(depth - 1), { minLength: 1, maxLength: 4 }).map((nodes) => seq(...nodes)), weight: 1 },
          { arbitrary: fc.array(planNode(depth - 1), { minLength: 1, maxLength: 4 }).map((nodes) => par(...nodes)), weight: 1 },
        ),
  );

  /** The longest chain of dependencies, in fetches: the fewest waves any schedule can have. */
  const longestChain = (deps: Map<FetchNode, Set<FetchNode>>): number => {
    const memo = new Map<FetchNode, number>();
    const depth = (f: FetchNode): number => {
      if (!memo.has(f)) memo.set(f, 1 + Math.max(0, ...[...deps.get(f)!].map(depth)));
      return memo.get(f)!;
    };
    return Math.max(...[...deps.keys()].map(depth));
  };

  it('keeps every dependency, runs every fetch once, and uses no more waves than the longest chain', () => {
    fc.assert(
      fc.property(planNode(5), (node) => {
        const original = plan(node);
        const deps = mustPrecede(node);
        const scheduled = scheduleInWaves(original);
        if (scheduled === original) {
          // Left alone only when there is nothing to schedule.
          expect(deps.size).toBeLessThan(2);
          return;
        }
        const { waves } = scheduleAndCheck(original);
        expect(waves).toHaveLength(longestChain(deps));
        const summary = waveSummaryOf(scheduled)!;
        expect(summary.planFetches).toBe(deps.size);
        expect(summary.waves.map((w) => Object.values(w).reduce((a, b) => a + b, 0))).toEqual(waves.map((w) => w.length));
        // Requests (one per subgraph per wave) never more than with every fetch at its earliest wave.
        const earliest = new Map<FetchNode, number>();
        const at = (f: FetchNode): number => {
          if (!earliest.has(f)) earliest.set(f, Math.max(-1, ...[...deps.get(f)!].map(at)) + 1);
          return earliest.get(f)!;
        };
        const requestsAtEarliest = new Set([...deps.keys()].map((f) => `${at(f)}/${f.serviceName}`)).size;
        const requests = summary.waves.reduce((n, w) => n + Object.keys(w).length, 0);
        expect(requests).toBeLessThanOrEqual(requestsAtEarliest);
      }),
      { numRuns: 300 },
    );
  });
});
