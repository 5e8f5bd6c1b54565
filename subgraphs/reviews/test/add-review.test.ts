import { describe, expect, it } from 'vitest';
import { parseAddReviewInput } from '../src/add-review.ts';

describe('parseAddReviewInput', () => {
  it('accepts a valid review and trims its text', () => {
    expect(parseAddReviewInput({ upc: ' 42 ', rating: 4, body: ' Good. ' })).toEqual({ upc: '42', rating: 4, body: 'Good.' });
  });
  it('lists every problem in one BAD_USER_INPUT error', () => {
    let error: unknown;
    try {
      parseAddReviewInput({ upc: '', rating: 2.5, body: 'x'.repeat(5001) });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    const problems = (error as { extensions: { problems: Array<{ field: string }> } }).extensions.problems;
    expect(problems.map((p) => p.field).sort()).toEqual(['body', 'rating', 'upc']);
  });
  it('refuses ratings outside 1 to 5', () => {
    expect(() => parseAddReviewInput({ upc: '1', rating: 0, body: 'x' })).toThrow(/rating must be 1 to 5/);
    expect(() => parseAddReviewInput({ upc: '1', rating: 6, body: 'x' })).toThrow(/rating must be 1 to 5/);
  });
});
