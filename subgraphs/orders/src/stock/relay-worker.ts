import { Gauge } from 'prom-client';
import { tracedBackground, untraced, type Logger, type ServiceMetrics } from '@shop/observability';
import type { BackgroundWorker } from '@shop/service-kit';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { StockRelay } from './stock-relay.ts';

export interface RelayWorkerOptions {
  /** Time between sweeps. */
  intervalMs: number;
  /** A command younger than this is left to the request that wrote it. */
  graceMs: number;
  /** Commands relayed per sweep round (a full round starts the next at once). */
  batchSize: number;
}

const PARALLEL_RELAYS = 8;

/**
 * The sweep that makes the outbox reliable: every intervalMs it relays the commands no request
 * finished (the process died between writing the order and calling inventory, inventory was
 * down, the answer was lost), oldest first, each when its backoff allows. Its gauges say how far
 * behind it is; the OrderStockRelayStuck alert reads them.
 */
export function startRelayWorker(prisma: PrismaClient, relay: StockRelay, metrics: ServiceMetrics, logger: Logger, options: RelayWorkerOptions): BackgroundWorker {
  relay.register(metrics.registry);
  const pending = new Gauge({ name: 'orders_stock_commands_pending', help: 'Stock commands (reserve, release) written and not yet answered by inventory.', registers: [metrics.registry] });
  const oldest = new Gauge({
    name: 'orders_stock_command_oldest_pending_seconds',
    help: 'Age of the oldest stock command not yet answered by inventory; 0 when none. Orders stay PENDING (or stock unreleased) that long.',
    registers: [metrics.registry],
  });
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> = Promise.resolve();

  const sweep = async (): Promise<number> => {
    const now = Date.now();
    const due = await untraced(() =>
      prisma.stockCommand.findMany({
      where: { doneAt: null, nextAttemptAt: { lte: new Date(now) }, createdAt: { lte: new Date(now - options.graceMs) } },
      orderBy: { nextAttemptAt: 'asc' },
      take: options.batchSize,
        select: { id: true, orderId: true, kind: true, attempts: true },
      }),
    );
    const queue = due.filter((command) => !relay.busy(command.id));
    await Promise.all(
      Array.from({ length: Math.min(PARALLEL_RELAYS, queue.length) }, async () => {
        for (let command = queue.shift(); command && !stopped; command = queue.shift()) {
          const { id, orderId, kind, attempts } = command;
          await tracedBackground('stock relay', { 'shop.stock_command.kind': kind, 'shop.order.id': orderId, 'shop.stock_command.attempts': attempts }, () =>
            relay.relay(prisma, { id, orderId, kind, attempts }, 'sweep'),
          );
        }
      }),
    );
    const backlog = await untraced(() => prisma.stockCommand.aggregate({ where: { doneAt: null }, _count: { _all: true }, _min: { createdAt: true } }));
    pending.set(backlog._count._all);
    oldest.set(backlog._min.createdAt ? Math.max(0, (Date.now() - backlog._min.createdAt.getTime()) / 1000) : 0);
    return due.length;
  };

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      round = sweep()
        .then((count) => schedule(count >= options.batchSize ? 0 : options.intervalMs))
        .catch((error: unknown) => {
          // The orders database is down or restarting: the next round tries again.
          logger.warn({ err: error }, 'stock relay sweep failed; retrying next round');
          schedule(options.intervalMs);
        });
    }, delayMs);
    timer.unref();
  };
  schedule(options.intervalMs);

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await round;
    },
  };
}
