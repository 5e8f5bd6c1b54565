/** Orders at or above this price (cents) ship free. */
export const FREE_SHIPPING_FROM = 100_000;
/** Cost per started kilogram, in cents. */
export const COST_PER_KG = 50;

/** Shipping cost in cents for one unit; null when price or weight is unknown. */
export function shippingEstimate(price: number | null | undefined, weight: number | null | undefined): number | null {
  if (price == null || weight == null) return null;
  if (price >= FREE_SHIPPING_FROM) return 0;
  return Math.max(1, Math.ceil(weight / 1000)) * COST_PER_KG;
}
