import { describe, expect, it } from 'vitest';
import { parsePlaceOrderArgs, requestHash } from '../src/place-order.ts';

const valid = { idempotencyKey: 'order-2026-0001', input: { lines: [{ upc: 'a', quantity: 1 }, { upc: 'b', quantity: 3 }] } };

describe('placeOrder input', () => {
  it('accepts a valid order', () => {
    expect(parsePlaceOrderArgs(valid)).toEqual(valid);
  });
  it('refuses empty orders, duplicate lines, bad quantities and malformed keys', () => {
    expect(() => parsePlaceOrderArgs({ ...valid, input: { lines: [] } })).toThrow(/at least one line/);
    expect(() => parsePlaceOrderArgs({ ...valid, input: { lines: [{ upc: 'a', quantity: 1 }, { upc: 'a', quantity: 2 }] } })).toThrow(
      /one line only/,
    );
    expect(() => parsePlaceOrderArgs({ ...valid, input: { lines: [{ upc: 'a', quantity: 1001 }] } })).toThrow(/1 to 1000/);
    expect(() => parsePlaceOrderArgs({ ...valid, idempotencyKey: 'has spaces in it' })).toThrow(/only letters, digits/);
  });
  it('hashes the same lines in any order to the same request, and other lines to another', () => {
    const lines = valid.input.lines;
    expect(requestHash(lines)).toBe(requestHash([...lines].reverse()));
    expect(requestHash(lines)).not.toBe(requestHash([{ upc: 'a', quantity: 2 }, { upc: 'b', quantity: 3 }]));
  });
});
