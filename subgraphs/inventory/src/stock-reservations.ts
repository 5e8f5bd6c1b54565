import { GraphQLError } from 'graphql';
import { z } from 'zod';
import { badInput, parseIntId } from '@shop/service-kit';
import type { PrismaClient } from './generated/prisma/client.ts';

export type ReservationStatus = 'RESERVED' | 'REJECTED' | 'RELEASED';
export interface StockLine {
  upc: string;
  quantity: number;
}
export interface StockShortage {
  upc: string;
  requested: number;
  available: number;
}
export interface ReservationOutcome {
  /** The order's id. */
  id: string;
  status: ReservationStatus;
  shortages: StockShortage[];
}

const linesSchema = z
  .array(z.object({ upc: z.string().min(1).max(64), quantity: z.number().int().min(1).max(1000) }))
  .min(1)
  .max(50)
  .refine((lines) => new Set(lines.map((l) => l.upc)).size === lines.length, 'each product may appear in one line only');

/** Interactive transactions wait for a connection and run longer under a burst than Prisma's 2 s / 5 s defaults allow. */
const TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 10_000 } as const;

/**
 * Sets aside every line's units for the order, or none, once per order. The reservation row, keyed
 * by the order, is the arbiter: a repeat (a retry, the relay racing the request) answers the first
 * decision, and of two concurrent attempts the second waits for the first to commit. Each line is a
 * conditional decrement (never below zero); if any line is short the whole transaction rolls back,
 * so rows are locked only from the decrement to the commit. An order that is plainly short is
 * refused from a plain read without locking anything: under a burst for one product, the refused
 * many do not queue behind the row lock of the few that get it.
 */
export async function reserveStock(prisma: PrismaClient, rawOrderId: string, rawLines: unknown): Promise<ReservationOutcome> {
  const orderId = orderIdOf(rawOrderId);
  const parsed = linesSchema.safeParse(rawLines);
  if (!parsed.success) throw badInput(`Invalid stock lines: ${parsed.error.issues.map((i) => i.message).join('; ')}.`);
  const lines = [...parsed.data].sort((a, b) => (a.upc < b.upc ? -1 : a.upc > b.upc ? 1 : 0));
  const upcs = lines.map((l) => l.upc);
  const quantities = lines.map((l) => l.quantity);

  const state = await readState(prisma, orderId, lines);
  if (state.decided) return sameLinesOrThrow(state.decided, orderId, lines);
  let shortages = state.shortages;
  if (shortages.length === 0) {
    try {
      return await prisma.$transaction(async (tx) => {
        const inserted = await tx.$queryRaw<Array<{ order_id: number }>>`
          INSERT INTO stock_reservations (order_id, status, lines) VALUES (${orderId}, 'RESERVED', ${JSON.stringify(lines)}::jsonb)
          ON CONFLICT (order_id) DO NOTHING RETURNING order_id`;
        if (inserted.length === 0) throw new AlreadyDecided();
        const taken = await tx.$queryRaw<Array<{ upc: string }>>`
          UPDATE inventory_items AS i SET quantity = i.quantity - r.quantity, updated_at = now()
          FROM unnest(${upcs}::text[], ${quantities}::int[]) AS r(upc, quantity)
          WHERE i.upc = r.upc AND i.quantity >= r.quantity RETURNING i.upc`;
        // A line short by now: roll back the lines taken and the reservation row, and refuse below.
        if (taken.length < lines.length) throw new ShortNow();
        return { id: String(orderId), status: 'RESERVED' as const, shortages: [] };
      }, TRANSACTION_OPTIONS);
    } catch (error) {
      if (error instanceof AlreadyDecided) return sameLinesOrThrow((await readState(prisma, orderId, lines)).decided!, orderId, lines);
      if (!(error instanceof ShortNow)) throw error;
      shortages = (await readState(prisma, orderId, lines)).shortages;
    }
  }
  // Refused: the decision is kept, so a repeat is refused the same way; unless a concurrent
  // attempt for this order decided first, whose decision stands.
  const refused = await prisma.$queryRaw<Array<{ order_id: number }>>`
    INSERT INTO stock_reservations (order_id, status, lines, shortages)
    VALUES (${orderId}, 'REJECTED', ${JSON.stringify(lines)}::jsonb, ${JSON.stringify(shortages)}::jsonb)
    ON CONFLICT (order_id) DO NOTHING RETURNING order_id`;
  if (refused.length === 0) return sameLinesOrThrow((await readState(prisma, orderId, lines)).decided!, orderId, lines);
  return { id: String(orderId), status: 'REJECTED', shortages };
}

class AlreadyDecided extends Error {}
class ShortNow extends Error {}

/**
 * The order's decision if it has one, and the lines short of stock now, in one statement (a plain
 * read: a decision to refuse needs no lock).
 */
async function readState(prisma: PrismaClient, orderId: number, lines: StockLine[]): Promise<{ decided: ReservationRow | undefined; shortages: StockShortage[] }> {
  const [row] = await prisma.$queryRaw<Array<{ decided: ReservationRow | null; stock: Array<{ upc: string; quantity: number }> }>>`
    SELECT
      (SELECT json_build_object('status', status::text, 'lines', lines, 'shortages', shortages) FROM stock_reservations WHERE order_id = ${orderId}) AS decided,
      (SELECT coalesce(json_agg(json_build_object('upc', upc, 'quantity', quantity)), '[]'::json) FROM inventory_items WHERE upc = ANY(${lines.map((l) => l.upc)}::text[])) AS stock`;
  const available = new Map(row!.stock.map((r) => [r.upc, r.quantity]));
  const shortages = lines
    .map((l) => ({ upc: l.upc, requested: l.quantity, available: available.get(l.upc) ?? 0 }))
    .filter((s) => s.available < s.requested);
  return { decided: row!.decided ?? undefined, shortages };
}

/**
 * Gives a cancelled order's units back, once: only a RESERVED reservation returns stock. A release
 * that arrives before its reservation (the cancel's message overtook the order's) leaves a
 * RELEASED mark, so the late reservation takes nothing.
 */
export async function releaseStock(prisma: PrismaClient, rawOrderId: string): Promise<ReservationOutcome> {
  const orderId = orderIdOf(rawOrderId);
  return prisma.$transaction(async (tx) => {
    const inserted = await tx.$queryRaw<Array<{ order_id: number }>>`
      INSERT INTO stock_reservations (order_id, status, lines) VALUES (${orderId}, 'RELEASED', '[]'::jsonb)
      ON CONFLICT (order_id) DO NOTHING RETURNING order_id`;
    if (inserted.length > 0) return { id: String(orderId), status: 'RELEASED' as const, shortages: [] };
    const [row] = await tx.$queryRaw<Array<{ status: ReservationStatus; lines: StockLine[]; shortages: StockShortage[] | null }>>`
      SELECT status::text AS status, lines, shortages FROM stock_reservations WHERE order_id = ${orderId} FOR UPDATE`;
    if (!row) throw new Error(`stock reservation ${orderId} vanished inside its transaction`);
    if (row.status !== 'RESERVED') return { id: String(orderId), status: row.status, shortages: row.shortages ?? [] };
    await tx.$executeRaw`
      UPDATE inventory_items AS i SET quantity = i.quantity + r.quantity, updated_at = now()
      FROM unnest(${row.lines.map((l) => l.upc)}::text[], ${row.lines.map((l) => l.quantity)}::int[]) AS r(upc, quantity) WHERE i.upc = r.upc`;
    await tx.$executeRaw`UPDATE stock_reservations SET status = 'RELEASED', updated_at = now() WHERE order_id = ${orderId}`;
    return { id: String(orderId), status: 'RELEASED' as const, shortages: [] };
  }, TRANSACTION_OPTIONS);
}

interface ReservationRow {
  status: ReservationStatus;
  lines: StockLine[];
  shortages: StockShortage[] | null;
}

/** A decision answers a repeat of the same order only: an order's lines never change. */
function sameLinesOrThrow(row: ReservationRow, orderId: number, lines: StockLine[]): ReservationOutcome {
  // A release that came first leaves a mark with no lines: whatever the order's lines, it stands.
  if (row.status !== 'RELEASED' || row.lines.length > 0) {
    const same = JSON.stringify(row.lines.map((l) => [l.upc, l.quantity])) === JSON.stringify(lines.map((l) => [l.upc, l.quantity]));
    if (!same) {
      throw new GraphQLError(`Order ${orderId} was reserved before with other lines; a reservation is never changed.`, {
        extensions: { code: 'RESERVATION_MISMATCH', orderId: String(orderId) },
      });
    }
  }
  return { id: String(orderId), status: row.status, shortages: row.shortages ?? [] };
}

function orderIdOf(raw: string): number {
  const id = parseIntId(raw);
  if (id === null) throw badInput(`orderId must be a positive integer id (got ${JSON.stringify(raw).slice(0, 40)}).`);
  return id;
}
