import type { InternalClient } from '../internal-client.ts';

export type ReservationStatus = 'RESERVED' | 'REJECTED' | 'RELEASED';
export interface StockShortage {
  upc: string;
  requested: number;
  available: number;
}
export interface ReservationOutcome {
  status: ReservationStatus;
  shortages: StockShortage[];
}

/** Inventory's side of an order's stock: both calls are idempotent per order, so any of them may be repeated. */
export interface InventoryStock {
  reserve(orderId: number, lines: ReadonlyArray<{ upc: string; quantity: number }>): Promise<ReservationOutcome>;
  release(orderId: number): Promise<ReservationOutcome>;
}

const RESERVE =
  'mutation ReserveStock($orderId: ID!, $lines: [StockLineInput!]!) { reserveStock(orderId: $orderId, lines: $lines) { status shortages { upc requested available } } }';
const RELEASE = 'mutation ReleaseStock($orderId: ID!) { releaseStock(orderId: $orderId) { status shortages { upc requested available } } }';

/** The inventory subgraph's reserveStock and releaseStock, which only orders may call (not in the public API). */
export function remoteInventoryStock(inventory: InternalClient): InventoryStock {
  return {
    async reserve(orderId, lines) {
      const data = await inventory<{ reserveStock: ReservationOutcome }>(RESERVE, {
        orderId: String(orderId),
        lines: lines.map((l) => ({ upc: l.upc, quantity: l.quantity })),
      });
      return data.reserveStock;
    },
    async release(orderId) {
      const data = await inventory<{ releaseStock: ReservationOutcome }>(RELEASE, { orderId: String(orderId) });
      return data.releaseStock;
    },
  };
}
