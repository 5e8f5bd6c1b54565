import { GraphQLError, parse, print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { correctOperation } from '../../src/correctness/operation-corrections.ts';
import { restoreErrorPaths, restoreResponseNames } from '../../src/correctness/response-aliases.ts';
import { compose } from '../conformance/harness.ts';
import { requiresArgumentCollision, unimplementedInterface } from '../conformance/patterns.ts';
import { plannerOf } from './plans.ts';

describe('what the correctness stage looks at', () => {
  const { facts } = plannerOf(compose(unimplementedInterface));

  it('only the operation that runs: another operation of the document refused alone does not refuse it', () => {
    const document = parse('query Fine { a { __typename } } query Broken { a { label } }');
    expect(correctOperation(facts, document, 'Fine').kind).toBe('unchanged');
    expect(correctOperation(facts, document, 'Broken').kind).toBe('refused');
  });

  it('only the fragments the operation spreads', () => {
    const document = parse('query Fine { a { ...Id } } fragment Id on Thing { __typename } fragment Unused on Thing { label }');
    expect(correctOperation(facts, document, 'Fine').kind).toBe('unchanged');
  });
});

describe('aliases given back', () => {
  const { facts } = plannerOf(compose(requiresArgumentCollision));

  it('gives the same alias to the same field spread twice, and a different one to other arguments', () => {
    const correction = correctOperation(facts, parse('{ feed { a: comments(limit: 1) { id } comments(limit: 1) { id } ... on Post { comments(limit: 1) { id } } } }'));
    expect(correction.kind).toBe('rewritten');
    if (correction.kind !== 'rewritten') return;
    expect(print(correction.document).match(/comments_args_\w+: comments\(limit: 1\)/g)).toHaveLength(2);
    expect(print(correction.document)).toContain('a: comments(limit: 1)');
  });

  it('renames the aliases back in data, in order, and in error paths', () => {
    const aliases = new Map([['comments_args_1', 'comments']]);
    const data = { feed: [{ author: { id: 'a' }, comments_args_1: [{ id: 'c1' }], last: 1 }] };
    expect(JSON.stringify(restoreResponseNames(data, aliases))).toBe('{"feed":[{"author":{"id":"a"},"comments":[{"id":"c1"}],"last":1}]}');
    const [error] = restoreErrorPaths([new GraphQLError('boom', { path: ['feed', 0, 'comments_args_1', 0, 'id'], extensions: { code: 'X' } })], aliases);
    expect(error!.path).toEqual(['feed', 0, 'comments', 0, 'id']);
    expect(error!.extensions).toEqual({ code: 'X' });
  });
});
