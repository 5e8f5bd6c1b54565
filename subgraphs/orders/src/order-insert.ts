import type { Order, OrderLine, PrismaClient, StockCommand } from './generated/prisma/client.ts';

export interface NewOrder {
  userId: number;
  idempotencyKey: string;
  requestHash: string;
  total: number;
  lines: ReadonlyArray<{ productUpc: string; quantity: number; unitPrice: number }>;
}

export type InsertedOrder = Order & { lines: OrderLine[]; stockCommands: StockCommand[] };

interface Row {
  order: { id: number; user_id: number; status: Order['status']; total: number; idempotency_key: string; request_hash: string; shortages: Order['shortages']; created_at: string; updated_at: string };
  lines: Array<{ id: number; order_id: number; product_upc: string; quantity: number; unit_price: number }>;
  command: { id: number; order_id: number; kind: StockCommand['kind']; attempts: number; next_attempt_at: string; last_error: string | null; created_at: string; done_at: string | null };
}

/** timestamp(3) columns hold UTC wall time (as Prisma writes them); row_to_json prints them without a zone. */
const utc = (text: string) => new Date(`${text}Z`);

/**
 * Writes an order, its lines and its RESERVE command in one statement: atomic without a
 * transaction, one round trip, and on the embedded PGlite (one session for every connection) the
 * session is held for one statement rather than a transaction's eight. Null when the user already
 * has an order with this idempotency key (the unique index decides; the caller reads that one).
 */
export async function insertOrder(prisma: PrismaClient, order: NewOrder): Promise<InsertedOrder | null> {
  const now = new Date().toISOString();
  const [row] = await prisma.$queryRaw<Row[]>`
    WITH o AS (
      INSERT INTO orders (user_id, status, total, idempotency_key, request_hash, created_at, updated_at)
      VALUES (${order.userId}, 'PENDING', ${order.total}, ${order.idempotencyKey}, ${order.requestHash}, ${now}::timestamp(3), ${now}::timestamp(3))
      ON CONFLICT (user_id, idempotency_key) DO NOTHING
      RETURNING id, user_id, status, total, idempotency_key, request_hash, shortages, created_at, updated_at
    ), l AS (
      INSERT INTO order_lines (order_id, product_upc, quantity, unit_price)
      SELECT o.id, r.upc, r.quantity, r.unit_price
      FROM o CROSS JOIN unnest(${order.lines.map((l) => l.productUpc)}::text[], ${order.lines.map((l) => l.quantity)}::int[], ${order.lines.map((l) => l.unitPrice)}::int[])
        WITH ORDINALITY AS r(upc, quantity, unit_price, n)
      ORDER BY r.n
      RETURNING id, order_id, product_upc, quantity, unit_price
    ), c AS (
      INSERT INTO stock_commands (order_id, kind, attempts, next_attempt_at, created_at)
      SELECT o.id, 'RESERVE', 0, ${now}::timestamp(3), ${now}::timestamp(3) FROM o
      RETURNING id, order_id, kind, attempts, next_attempt_at, last_error, created_at, done_at
    )
    SELECT row_to_json(o) AS "order", (SELECT json_agg(l ORDER BY l.id) FROM l) AS lines, (SELECT row_to_json(c) FROM c) AS command FROM o`;
  if (!row) return null;
  const { order: o, lines, command: c } = row;
  return {
    id: o.id,
    userId: o.user_id,
    status: o.status,
    total: o.total,
    idempotencyKey: o.idempotency_key,
    requestHash: o.request_hash,
    shortages: o.shortages,
    createdAt: utc(o.created_at),
    updatedAt: utc(o.updated_at),
    lines: lines.map((l) => ({ id: l.id, orderId: l.order_id, productUpc: l.product_upc, quantity: l.quantity, unitPrice: l.unit_price })),
    stockCommands: [
      {
        id: c.id,
        orderId: c.order_id,
        kind: c.kind,
        attempts: c.attempts,
        nextAttemptAt: utc(c.next_attempt_at),
        lastError: c.last_error,
        createdAt: utc(c.created_at),
        doneAt: c.done_at === null ? null : utc(c.done_at),
      },
    ],
  };
}
