import { Counter, type Registry } from 'prom-client';
import type { Logger } from '@shop/observability';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { InventoryStock, ReservationOutcome } from './inventory-stock.ts';

export interface StockCommand {
  id: number;
  orderId: number;
  kind: 'RESERVE' | 'RELEASE';
  attempts: number;
}

export type RelayPath = 'inline' | 'sweep';
export type RelayResult = { ok: true; outcome: ReservationOutcome } | { ok: false; error: Error };

/**
 * The longest a failing command waits before its next attempt: after inventory is back, the
 * orders it kept PENDING wait at most this long (plus a sweep interval) for their decision. It is
 * well under the 30 s within which an order must be decided after a crash is repaired (issue 11);
 * at 30 s, an outage of half a minute or more left orders PENDING up to 30 s after inventory was back.
 */
export const MAX_BACKOFF_MS = 10_000;

/** When a command that failed `attempts` times before is tried again: doubling from 0.5 s, jittered (50-100%), capped. */
export function retryDelayMs(attempts: number, random: number = Math.random()): number {
  return Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(attempts, 10)) * (0.5 + random / 2);
}

/**
 * Delivers the outbox's commands to inventory and applies inventory's answers to the orders.
 * Both the request that wrote a command (inline, at once) and the sweep (later, for any command
 * still not done) relay through here; inventory answers a repeated command with its first
 * decision, so relaying one twice is harmless, and in this process a command is relayed by one
 * caller at a time.
 */
export class StockRelay {
  readonly relayed = new Counter({
    name: 'orders_stock_relay_total',
    help: 'Stock commands relayed to inventory, by kind (RESERVE, RELEASE), path (inline: by the request; sweep: by the relay worker) and outcome (reserved, rejected, released, failed).',
    labelNames: ['kind', 'path', 'outcome'] as const,
    registers: [],
  });
  private readonly inFlight = new Map<number, Promise<RelayResult>>();

  constructor(
    private readonly stock: InventoryStock,
    private readonly logger: Logger,
  ) {}

  /** Adds the relay's counter to the service's /metrics (called once the service's registry exists). */
  register(registry: Registry): void {
    registry.registerMetric(this.relayed);
  }

  relay(prisma: PrismaClient, command: StockCommand, path: RelayPath, lines?: ReadonlyArray<{ upc: string; quantity: number }>): Promise<RelayResult> {
    const running = this.inFlight.get(command.id);
    if (running) return running;
    const attempt = this.attempt(prisma, command, path, lines).finally(() => this.inFlight.delete(command.id));
    this.inFlight.set(command.id, attempt);
    return attempt;
  }

  /** Commands being relayed in this process now. */
  busy(id: number): boolean {
    return this.inFlight.has(id);
  }

  private async attempt(
    prisma: PrismaClient,
    command: StockCommand,
    path: RelayPath,
    knownLines?: ReadonlyArray<{ upc: string; quantity: number }>,
  ): Promise<RelayResult> {
    try {
      let outcome: ReservationOutcome;
      if (command.kind === 'RESERVE') {
        const lines = knownLines ?? (await prisma.orderLine.findMany({ where: { orderId: command.orderId }, select: { productUpc: true, quantity: true } })).map((l) => ({ upc: l.productUpc, quantity: l.quantity }));
        outcome = await this.stock.reserve(command.orderId, lines);
        const status = outcome.status === 'RESERVED' ? 'CONFIRMED' : outcome.status === 'REJECTED' ? 'REJECTED' : null;
        // One statement, so atomic without a transaction: the order's decision and its command done.
        // Only a PENDING order moves: one cancelled meanwhile stays CANCELLED (its RELEASE gives the units back).
        const now = new Date().toISOString();
        const shortages = status === 'REJECTED' ? JSON.stringify(outcome.shortages) : null;
        await prisma.$executeRaw`
          WITH decided AS (
            UPDATE orders SET status = ${status}::order_status, shortages = COALESCE(${shortages}::jsonb, shortages), updated_at = ${now}::timestamp(3)
            WHERE id = ${command.orderId} AND status = 'PENDING' AND ${status}::text IS NOT NULL
          )
          UPDATE stock_commands SET done_at = ${now}::timestamp(3) WHERE id = ${command.id}`;
      } else {
        outcome = await this.stock.release(command.orderId);
        await prisma.stockCommand.update({ where: { id: command.id }, data: { doneAt: new Date() } });
      }
      this.relayed.inc({ kind: command.kind, path, outcome: outcome.status.toLowerCase() });
      return { ok: true, outcome };
    } catch (cause) {
      const error = cause instanceof Error ? cause : new Error(String(cause));
      this.relayed.inc({ kind: command.kind, path, outcome: 'failed' });
      const delayMs = retryDelayMs(command.attempts);
      this.logger.warn({ err: error, orderId: command.orderId, kind: command.kind, attempts: command.attempts + 1, retryInMs: Math.round(delayMs) }, 'stock command not relayed; the sweep retries it');
      // When the orders database is what failed, this fails too: the command keeps its old
      // schedule and the sweep still finds it.
      await prisma.stockCommand
        .update({
          where: { id: command.id },
          data: { attempts: { increment: 1 }, nextAttemptAt: new Date(Date.now() + delayMs), lastError: error.message.slice(0, 500) },
        })
        .catch(() => undefined);
      return { ok: false, error };
    }
  }
}
