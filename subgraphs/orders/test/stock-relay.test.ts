import { describe, expect, it } from 'vitest';
import { createLogger } from '@shop/observability';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import type { InventoryStock } from '../src/stock/inventory-stock.ts';
import { MAX_BACKOFF_MS, retryDelayMs, StockRelay } from '../src/stock/stock-relay.ts';

/** The bound: after a crash is repaired, every order is decided within 30 s. */
const DECIDE_WITHIN_MS = 30_000;
/** STOCK_RELAY_INTERVAL_MS's default: a due command waits at most one interval more for the sweep. */
const SWEEP_INTERVAL_MS = 1_000;

describe('stock relay backoff', () => {
  it('doubles from 0.5 s with jitter and never waits more than MAX_BACKOFF_MS', () => {
    expect(retryDelayMs(0, 0)).toBe(250);
    expect(retryDelayMs(0, 1)).toBe(500);
    expect(retryDelayMs(3, 1)).toBe(4_000);
    for (const attempts of [4, 5, 6, 10, 50, 1_000]) {
      expect(retryDelayMs(attempts, 0.999)).toBeLessThanOrEqual(MAX_BACKOFF_MS);
      expect(retryDelayMs(attempts, 0)).toBeGreaterThanOrEqual(Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempts) / 2);
    }
  });

  it('leaves a command that failed just before inventory came back well within 30 s of its decision', () => {
    // However long inventory was away, the last failed attempt schedules the next within MAX_BACKOFF_MS;
    // the sweep finds it within an interval after that, and relaying a backlog takes seconds.
    expect(MAX_BACKOFF_MS + SWEEP_INTERVAL_MS).toBeLessThanOrEqual(DECIDE_WITHIN_MS / 2);
  });

  it('schedules the next attempt of a failed relay within MAX_BACKOFF_MS, however many attempts failed before', async () => {
    const updates: Array<{ nextAttemptAt: Date; lastError: string }> = [];
    const prisma = {
      orderLine: { findMany: async () => [{ productUpc: 'a', quantity: 1 }] },
      stockCommand: {
        update: async ({ data }: { data: { nextAttemptAt: Date; lastError: string } }) => {
          updates.push(data);
          return {};
        },
      },
    } as unknown as PrismaClient;
    const down: InventoryStock = {
      reserve: async () => {
        throw new Error('inventory could not be reached: connect ECONNREFUSED');
      },
      release: async () => {
        throw new Error('unused');
      },
    };
    const relay = new StockRelay(down, createLogger('test', 'silent'));
    const before = Date.now();
    const result = await relay.relay(prisma, { id: 1, orderId: 7, kind: 'RESERVE', attempts: 40 }, 'sweep');
    expect(result.ok).toBe(false);
    expect(updates).toHaveLength(1);
    expect(updates[0]!.lastError).toMatch(/ECONNREFUSED/);
    const waitMs = updates[0]!.nextAttemptAt.getTime() - before;
    expect(waitMs).toBeGreaterThanOrEqual(MAX_BACKOFF_MS / 2 - 50);
    expect(waitMs).toBeLessThanOrEqual(MAX_BACKOFF_MS + 1_000);
  });
});
