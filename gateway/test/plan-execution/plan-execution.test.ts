/**
 * The parts of gateway/src/plan-execution/ against Apollo's own (the @apollo/gateway 2.14.4 code
 * they replace), on random data: the same values, in the same order, the same failures. The whole
 * executor is compared with Apollo's on every request of the suite (PLAN_EXECUTION=verify in
 * vitest.config.ts); these find the cases the suite's operations do not reach.
 */
import { createRequire } from 'node:module';
import type { QueryPlanSelectionNode } from '@apollo/query-planner';
import fc from 'fast-check';
import { buildSchema, Kind, parse, type DocumentNode, type FragmentDefinitionNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { hydratedPaths, valuesAtPath } from '../../src/plan-execution/entity-paths.ts';
import { needsApollosExecutor, operationOf } from '../../src/plan-execution/execute-plan.ts';
import { deepMerge } from '../../src/plan-execution/merge.ts';
import { representationOf } from '../../src/plan-execution/representations.ts';
import { responseObject } from '../../src/result-shaping/response-object.ts';

const require = createRequire(import.meta.url);
const apollosDeepMerge = (require('@apollo/gateway/dist/utilities/deepMerge.js') as { deepMerge: (t: unknown, s: unknown) => unknown }).deepMerge;
const apollosHydratedPaths = (
  require('@apollo/gateway/dist/executeQueryPlan.js') as {
    generateHydratedPaths: (parent: (string | number)[], path: (string | number)[], data: unknown, result: (string | number)[][]) => void;
  }
).generateHydratedPaths;
const { isObjectOfType } = require('@apollo/gateway/dist/dataRewrites.js') as {
  isObjectOfType: (schema: GraphQLSchema, object: object, typeCondition: string) => boolean;
};

/** Apollo's flattenResultsAtPath (executeQueryPlan.js, not exported), as it is. */
function apollosFlatten(value: unknown, path: (string | number)[]): unknown {
  if (path.length === 0) return value;
  if (value === undefined || value === null) return value;
  const [current, ...rest] = path;
  if (current === '@') return (value as unknown[]).flatMap((element) => apollosFlatten(element, rest));
  if (typeof current !== 'string') throw new Error(`Unexpected ${typeof current} found in path`);
  if (Array.isArray(value)) throw new Error(`Unexpected array in result for path element ${current}`);
  return Object.prototype.hasOwnProperty.call(value, current) ? apollosFlatten((value as Record<string, unknown>)[current], rest) : undefined;
}

/** Apollo's executeSelectionSet (executeQueryPlan.js, not exported), as it is. */
function apollosExecuteSelectionSet(schema: GraphQLSchema, source: unknown, selections: readonly QueryPlanSelectionNode[]): Record<string, unknown> | null {
  if (source === null) return null;
  const object = source as Record<string, unknown>;
  const result = Object.create(null) as Record<string, unknown>;
  for (const selection of selections) {
    if (selection.kind === 'Field') {
      const responseName = selection.alias ?? selection.name;
      const sub = selection.selections;
      if (!Object.prototype.hasOwnProperty.call(object, responseName) || typeof object[responseName] === 'undefined') return null;
      const value = object[responseName];
      if (Array.isArray(value)) result[responseName] = value.map((v: unknown) => (sub ? apollosExecuteSelectionSet(schema, v, sub) : v));
      else if (sub) result[responseName] = apollosExecuteSelectionSet(schema, value, sub);
      else result[responseName] = value;
    } else {
      if (!selection.typeCondition || !source) continue;
      if (isObjectOfType(schema, object, selection.typeCondition)) apollosDeepMerge(result, apollosExecuteSelectionSet(schema, object, selection.selections));
    }
  }
  return result;
}

const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const outcome = (run: () => unknown): string => {
  try {
    return `ok ${JSON.stringify(run())}`;
  } catch {
    // Which error differs (Apollo's TypeError of `flatMap` on a non-list, ours names the path): either fails the fetch.
    return 'throws';
  }
};

// Few keys, so that trees overlap; `constructor` and `__proto__` are fields like any other.
const KEYS = ['a', 'b', 'c', 'constructor', '__proto__'];
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 3 }), fc.constantFrom('x', 'y', '')),
    fc.array(tie('tree'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('tree'), { maxKeys: 4 }).map((o) => JSON.parse(JSON.stringify(o)) as unknown),
  ),
}));

describe('deepMerge', () => {
  it('merges as Apollo deepMerge does, own keys only, `constructor` and `__proto__` as plain fields', () => {
    fc.assert(
      fc.property(tree, tree, (target, source) => {
        fc.pre(typeof target === 'object' && target !== null && !Array.isArray(target));
        const ours = copy(target) as Record<string, unknown>;
        const apollos = copy(target) as Record<string, unknown>;
        const oursSource = copy(source);
        const apollosSource = copy(source);
        expect(outcome(() => (deepMerge(ours, oursSource), ours))).toBe(outcome(() => apollosDeepMerge(apollos, apollosSource)));
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps a source value Apollo assigns by reference (later merges reach it) and skips undefined', () => {
    const inner = { id: 'u1' };
    const target: Record<string, unknown> = { keep: 1 };
    deepMerge(target, { author: inner, gone: undefined });
    expect(target.author).toBe(inner);
    expect('gone' in target).toBe(false);
  });
});

// Paths of field names and '@' over trees that mostly follow them, with nulls and missing fields.
const PATH_KEYS = ['a', 'b'];
const pathArbitrary = fc.array(fc.oneof(fc.constantFrom(...PATH_KEYS), fc.constant('@')), { minLength: 0, maxLength: 5 });
function treeAlong(path: string[]): fc.Arbitrary<unknown> {
  if (path.length === 0) return fc.oneof(fc.constant(null), fc.record({ id: fc.integer({ max: 9, min: 0 }) }), fc.array(fc.record({ id: fc.nat(9) }), { maxLength: 2 }));
  const [head, ...rest] = path;
  const below = treeAlong(rest);
  return fc.oneof(
    { weight: 6, arbitrary: head === '@' ? fc.array(below, { maxLength: 3 }) : fc.dictionary(fc.constant(head!), below, { maxKeys: 1 }) },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constant({}) },
    { weight: 1, arbitrary: head === '@' ? fc.constant({ a: [] }) : fc.constant([{ a: 1 }]) },
  );
}
const dataAlongPath = pathArbitrary.chain((path) => fc.tuple(fc.constant(path), treeAlong(path)));

describe('entity paths', () => {
  it('gathers the values at a path as Apollo flattenResultsAtPath does: the same values, by identity, in order', () => {
    fc.assert(
      fc.property(dataAlongPath, ([path, data]) => {
        const ours = outcome(() => valuesAtPath(data, path));
        expect(ours).toBe(outcome(() => apollosFlatten(data, path)));
        if (ours.startsWith('ok')) {
          const [a, b] = [valuesAtPath(data, path), apollosFlatten(data, path)];
          if (Array.isArray(a)) a.forEach((value, i) => expect(value).toBe((b as unknown[])[i]));
          else expect(a).toBe(b);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('gives each entity the concrete path Apollo generateHydratedPaths gives it (subgraph errors land there)', () => {
    fc.assert(
      fc.property(dataAlongPath, ([path, data]) => {
        const ours: (string | number)[][] = [];
        const apollos: (string | number)[][] = [];
        expect(outcome(() => (hydratedPaths([], path, 0, data, ours), ours))).toBe(outcome(() => (apollosHydratedPaths([], path, data, apollos), apollos)));
      }),
      { numRuns: 3000 },
    );
  });
});

const schema = buildSchema(`
  interface Node { id: ID! }
  type Product implements Node { id: ID! upc: String sku: String dims: Dims tags: [String] }
  type User implements Node { id: ID! name: String }
  type Dims { w: Int h: Int }
  union Item = Product | User
  type Query { item: Item node: Node }
`);
const REQUIRES: QueryPlanSelectionNode[][] = [
  [
    { kind: 'Field', name: '__typename' },
    { kind: 'Field', name: 'id' },
  ],
  [
    { kind: 'Field', name: '__typename' },
    { kind: 'Field', name: 'upc' },
    { kind: 'Field', name: 'dims', selections: [{ kind: 'Field', name: 'w' }] },
    { kind: 'Field', name: 'tags' },
  ],
  [
    { kind: 'InlineFragment', typeCondition: 'Product', selections: [{ kind: 'Field', name: '__typename' }, { kind: 'Field', name: 'upc' }] },
    { kind: 'InlineFragment', typeCondition: 'User', selections: [{ kind: 'Field', name: '__typename' }, { kind: 'Field', name: 'id' }] },
  ],
  [
    { kind: 'Field', name: '__typename' },
    { kind: 'InlineFragment', typeCondition: 'Node', selections: [{ kind: 'Field', name: 'id' }] },
    { kind: 'InlineFragment', typeCondition: 'Item', selections: [{ kind: 'Field', name: 'sku' }] },
    { kind: 'InlineFragment', selections: [{ kind: 'Field', name: 'name' }] },
  ],
];
const entity = fc.record(
  {
    __typename: fc.constantFrom('Product', 'User', 'Dims', 'Unknown'),
    id: fc.oneof(fc.constant(null), fc.constantFrom('1', '2')),
    upc: fc.constantFrom('p1', 'p2'),
    sku: fc.oneof(fc.constant(null), fc.constant('s')),
    name: fc.constant('Ada'),
    dims: fc.oneof(fc.constant(null), fc.record({ w: fc.nat(3), h: fc.nat(3) }, { requiredKeys: [] }), fc.array(fc.record({ w: fc.nat(3) }), { maxLength: 2 })),
    tags: fc.array(fc.constantFrom('a', 'b'), { maxLength: 2 }),
  },
  { requiredKeys: [] },
);

describe('representations', () => {
  it('selects what a fetch requires of an entity as Apollo executeSelectionSet does (null when a field is missing)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...REQUIRES), fc.oneof(entity, fc.constant(null)), (requires, source) => {
        expect(outcome(() => representationOf(schema, source, requires))).toBe(outcome(() => apollosExecuteSelectionSet(schema, source, requires)));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('response objects', () => {
  it('inherit nothing: `constructor`, `__proto__` and `toString` are fields, and stringify like plain objects', () => {
    const object: Record<string, unknown> = responseObject();
    expect(object.constructor).toBeUndefined();
    expect('toString' in object).toBe(false);
    object['constructor'] = 'c';
    object['__proto__'] = { nested: true };
    object['toString'] = 1;
    expect(Object.keys(object)).toEqual(['constructor', '__proto__', 'toString']);
    expect(JSON.stringify(object)).toBe('{"constructor":"c","__proto__":{"nested":true},"toString":1}');
    expect(Object.getPrototypeOf(Object.getPrototypeOf(object))).toBeNull();
  });
});

describe('which plans Apollo executor runs', () => {
  const fetch = { kind: 'Fetch', serviceName: 'a', operation: '{a}', operationKind: 'query', operationName: undefined } as const;
  const context = (captureTraces: boolean) => ({ metrics: { captureTraces } }) as unknown as Parameters<typeof needsApollosExecutor>[1];

  it('runs plans of Sequence, Parallel, Flatten, Fetch and Condition itself', () => {
    const plan = {
      kind: 'QueryPlan',
      node: { kind: 'Sequence', nodes: [fetch, { kind: 'Condition', condition: 'v', ifClause: { kind: 'Flatten', path: ['a', '@'], node: fetch } }] },
    };
    expect(needsApollosExecutor(plan as never, context(false))).toBe(false);
  });

  it('leaves @defer, subscriptions and requests that capture usage traces to Apollo executor', () => {
    expect(needsApollosExecutor({ kind: 'QueryPlan', node: { kind: 'Defer', primary: {}, deferred: [] } } as never, context(false))).toBe(true);
    expect(needsApollosExecutor({ kind: 'QueryPlan', node: { kind: 'Subscription', primary: fetch } } as never, context(false))).toBe(true);
    expect(needsApollosExecutor({ kind: 'QueryPlan', node: fetch } as never, context(true))).toBe(true);
  });
});

describe('the operation built once per document', () => {
  const { buildSchema: buildApiSchema } = require('@apollo/federation-internals') as typeof import('@apollo/federation-internals');
  const apiSchema = buildApiSchema('type Query { product: Product } type Product { upc: String name: String price: Int }');
  const contextOf = (document: DocumentNode) => {
    const definitions = document.definitions;
    const operation = definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
    const fragments = Object.fromEntries(definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
    return { schema: {} as GraphQLSchema, operation, fragments };
  };

  it('is reused for the same document, and rebuilt when a stage rewrote a fragment but kept the operation node', () => {
    const original = parse('query Q { product { ...P } } fragment P on Product { upc name }');
    const first = operationOf(apiSchema, contextOf(original));
    expect(operationOf(apiSchema, contextOf(original))).toBe(first);
    // As graphql's visit() rewrites: the changed fragment is a new node, the untouched operation node is shared.
    const fragment = original.definitions[1] as FragmentDefinitionNode;
    const rewritten: DocumentNode = {
      ...original,
      definitions: [original.definitions[0]!, { ...fragment, selectionSet: { ...fragment.selectionSet, selections: fragment.selectionSet.selections.slice(0, 1) } }],
    };
    const again = operationOf(apiSchema, contextOf(rewritten));
    expect(again).not.toBe(first);
    expect(again.toString()).not.toContain('name');
    expect(first.toString()).toContain('name');
  });
});
