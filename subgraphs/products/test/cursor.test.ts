import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../src/cursor.ts';

describe('product cursors', () => {
  it('round-trip a upc without exposing it as plain text', () => {
    const cursor = encodeCursor('0123456789012');
    expect(cursor).not.toContain('0123456789012');
    expect(decodeCursor(cursor)).toBe('0123456789012');
  });
  it('refuse anything this API did not issue, with BAD_CURSOR', () => {
    for (const bad of ['', 'abc', Buffer.from('user:1').toString('base64url'), Buffer.from('product:').toString('base64url')]) {
      expect(() => decodeCursor(bad)).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_CURSOR' }) }));
    }
  });
});
