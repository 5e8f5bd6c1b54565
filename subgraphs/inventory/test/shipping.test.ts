import { describe, expect, it } from 'vitest';
import { COST_PER_KG, FREE_SHIPPING_FROM, shippingEstimate } from '../src/shipping.ts';

describe('shippingEstimate', () => {
  it('is free from the free-shipping price', () => {
    expect(shippingEstimate(FREE_SHIPPING_FROM, 25_000)).toBe(0);
  });
  it('charges per started kilogram, at least one', () => {
    expect(shippingEstimate(999, 1)).toBe(COST_PER_KG);
    expect(shippingEstimate(999, 1000)).toBe(COST_PER_KG);
    expect(shippingEstimate(999, 1001)).toBe(2 * COST_PER_KG);
  });
  it('is unknown without price or weight', () => {
    expect(shippingEstimate(null, 100)).toBeNull();
    expect(shippingEstimate(100, undefined)).toBeNull();
  });
});
