import pg from 'pg';
import { PRODUCT_COUNT, productUpc } from '@shop/db/seed';
import { until } from '@shop/test-support';
import { sleep } from './exec.ts';
import { startLoad, type Load, type Sample } from './load.ts';
import { ORDER_ANSWER_CODES, ORDER_RUN_PRODUCTS, orderIdOf, placeOrderMissing, type GraphQLBody, type Operation } from './operations.ts';

/**
 * The order run of issue 11's crash criterion: 500 placeOrder calls (distinct idempotency keys)
 * sent through the gateway while orders or inventory is killed mid-way, then checked against both
 * databases: every CONFIRMED order has exactly its reservation, no reservation lacks its order, no
 * acknowledged order is missing, everything is decided within 30 s of the restart, and stock is
 * conserved. Each run orders its own products (the mix never orders them), some of them scarce, so
 * both CONFIRMED and OUT_OF_STOCK happen and the stock arithmetic is the run's alone.
 */

export const ORDER_RUN_SIZE = 500;
/** The bound: after the restart, at most this long until every order of the run is decided. */
export const DECIDE_WITHIN_MS = 30_000;
/** Products per run: two scarce, three plenty (ORDER_RUN_PRODUCTS of them are set aside for the runs). */
const PRODUCTS_PER_RUN = 5;
/**
 * Starting stock of a run's products. The first runs out about mid-way (its ~100 orders ask ~200
 * units), so orders for it are decided both ways around the fault; the second runs out early; the
 * others never do.
 */
const START_QUANTITIES = [100, 30, 10_000, 10_000, 10_000] as const;

export type AnswerKind = 'CONFIRMED' | 'PENDING' | 'OUT_OF_STOCK' | 'failed';

export interface RunAnswer {
  key: string;
  kind: AnswerKind;
  /** The order the answer acknowledged (an order id, or OUT_OF_STOCK's extensions.orderId). */
  orderId?: string;
  /** Why it failed: the first error code, the network error, or the HTTP status. */
  code?: string;
  start: number;
  end: number;
}

export interface Line {
  upc: string;
  quantity: number;
}

export interface OrderRunPlan {
  /** Tells this run's idempotency keys apart: `run-<runId>-<tag>-<n>`. */
  keyPrefix: string;
  products: Array<{ upc: string; start: number }>;
}

/** The run's products: the `slot`-th group of the seeded products set aside for order runs. */
export function orderRunPlan(runId: string, tag: string, slot: number): OrderRunPlan {
  if ((slot + 1) * PRODUCTS_PER_RUN > ORDER_RUN_PRODUCTS) throw new RangeError(`order run slot ${slot} is beyond the ${ORDER_RUN_PRODUCTS} products set aside`);
  const first = PRODUCT_COUNT - ORDER_RUN_PRODUCTS + slot * PRODUCTS_PER_RUN;
  return {
    keyPrefix: `run-${runId}-${tag}-`,
    products: START_QUANTITIES.map((start, i) => ({ upc: productUpc(first + i), start })),
  };
}

/** The lines of the run's n-th order (1-based): one product, and every third order a plenty one besides. */
export function orderLines(plan: OrderRunPlan, n: number): Line[] {
  const upcs = plan.products.map((p) => p.upc);
  const first = n % upcs.length;
  const lines: Line[] = [{ upc: upcs[first]!, quantity: 1 + (n % 3) }];
  if (n % 3 === 0) {
    // A plenty product (index 2..4) other than the first line's: all or nothing when the first is short.
    let second = 2 + (Math.floor(n / 3) % 3);
    if (second === first) second = 2 + ((second - 1) % 3);
    lines.push({ upc: upcs[second]!, quantity: 1 });
  }
  return lines;
}

const PLACE_ORDER = `mutation ChaosRunOrder($input: PlaceOrderInput!, $key: String!) {
  placeOrder(input: $input, idempotencyKey: $key) { id total status }
}`;

/** What one answer of the run was: CONFIRMED / PENDING (the order's status), OUT_OF_STOCK, or failed with a code. */
export function answerOf(key: string, answer: GraphQLBody | undefined, sample: Sample): RunAnswer {
  const base = { key, start: sample.start, end: sample.end };
  const orderId = answer ? orderIdOf(answer) : undefined;
  if (answer && orderId !== undefined) {
    const order = answer.data?.placeOrder as { status?: unknown } | null | undefined;
    if (!order && answer.errors?.some((e) => e.extensions?.code === 'OUT_OF_STOCK')) return { ...base, kind: 'OUT_OF_STOCK', orderId };
    if (order?.status === 'CONFIRMED' || order?.status === 'PENDING') return { ...base, kind: order.status, orderId };
    return { ...base, kind: 'failed', orderId, code: `status ${String(order?.status)}` };
  }
  const code = sample.codes[0] ?? (sample.status !== null && sample.status !== 200 ? `HTTP ${sample.status}` : 'NO_ORDER');
  return { ...base, kind: 'failed', code };
}

export interface OrderRun {
  plan: OrderRunPlan;
  answers: Map<string, RunAnswer>;
  /** Requests started so far. */
  sent(): number;
  /** Resolves when every request of the run has its final answer (the load then stops by itself). */
  finished(): Promise<void>;
  startedAt: number;
  finishedAt: number | null;
}

/** Sets the run's products' stock in the inventory database (what it starts from) and starts sending. */
export async function startOrderRun(options: {
  gatewayUrl: string;
  inventoryDatabaseUrl: string;
  plan: OrderRunPlan;
  tokens: string[];
  ratePerSecond: number;
}): Promise<OrderRun> {
  const { plan, tokens } = options;
  await withClient(options.inventoryDatabaseUrl, async (db) => {
    for (const product of plan.products) {
      const { rowCount } = await db.query('UPDATE inventory_items SET quantity = $2, updated_at = now() WHERE upc = $1', [product.upc, product.start]);
      if (rowCount !== 1) throw new Error(`the inventory database has no item ${product.upc} to set the run's stock on`);
    }
  });

  const answers = new Map<string, RunAnswer>();
  let n = 0;
  const operation: Operation = {
    name: 'placeOrder (order run)',
    parts: ['orders', 'products'],
    answerCodes: ORDER_ANSWER_CODES,
    prepare() {
      n += 1;
      const idempotencyKey = `${plan.keyPrefix}${n}`;
      return {
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[n % tokens.length]!}` },
        body: JSON.stringify({ query: PLACE_ORDER, operationName: 'ChaosRunOrder', variables: { input: { lines: orderLines(plan, n) }, key: idempotencyKey } }),
        idempotencyKey,
      };
    },
    missing(answer) {
      return placeOrderMissing(answer, this.parts);
    },
    acknowledged(answer, request) {
      return orderIdOf(answer) !== undefined ? request.idempotencyKey : undefined;
    },
    observe(request, answer, sample) {
      const key = request.idempotencyKey!;
      answers.set(key, answerOf(key, answer, sample));
    },
  };
  const load: Load = startLoad({
    url: options.gatewayUrl,
    operations: [operation],
    concurrency: 256,
    ratePerSecond: options.ratePerSecond,
    maxRequests: ORDER_RUN_SIZE,
    requestTimeoutMs: 35_000,
    retryRefusedForMs: 20_000,
  });
  const run: OrderRun = {
    plan,
    answers,
    sent: () => n,
    startedAt: Date.now(),
    finishedAt: null,
    async finished() {
      // Every request answered (a request not sent because too many were in flight counts too) before
      // the load stops: stopping ends its clients' retries.
      await until(() => load.samples.length >= ORDER_RUN_SIZE, { timeoutMs: 120_000, intervalMs: 100, what: `the ${ORDER_RUN_SIZE} orders of the run answered` });
      await load.stop();
      for (const sample of load.samples.filter((s) => s.codes.includes('CLIENT_BACKLOG_FULL'))) {
        answers.set(`unsent-${sample.start}-${answers.size}`, { key: '', kind: 'failed', code: 'CLIENT_BACKLOG_FULL', start: sample.start, end: sample.end });
      }
      run.finishedAt ??= Math.max(...[...answers.values()].map((a) => a.end));
    },
  };
  return run;
}

/** What the two databases hold for a run. */
export interface RunState {
  /** The run's orders (idempotency key with the run's prefix). */
  orders: Array<{ id: string; key: string; status: string; lines: Line[] }>;
  /** Stock commands of the run's orders not answered by inventory. */
  unansweredCommands: number;
  /** Reservations of the run's orders or of the run's products. */
  reservations: Array<{ orderId: string; status: string; lines: Line[] }>;
  /** Reservations anywhere in inventory whose order is not in the orders database. */
  orphanReservations: string[];
  /** Stock of the run's products now. */
  quantities: Map<string, number>;
}

export async function readRunState(urls: { orders: string; inventory: string }, plan: OrderRunPlan): Promise<RunState> {
  const upcs = plan.products.map((p) => p.upc);
  return withClient(urls.orders, (ordersDb) =>
    withClient(urls.inventory, async (inventoryDb) => {
      const { rows: orders } = await ordersDb.query<{ id: string; key: string; status: string; lines: Line[] }>(
        `SELECT o.id::text AS id, o.idempotency_key AS key, o.status::text AS status,
                json_agg(json_build_object('upc', l.product_upc, 'quantity', l.quantity) ORDER BY l.product_upc) AS lines
           FROM orders o JOIN order_lines l ON l.order_id = o.id
          WHERE o.idempotency_key LIKE $1 GROUP BY o.id`,
        [`${plan.keyPrefix}%`],
      );
      const [commands] = (
        await ordersDb.query<{ n: string }>(
          `SELECT count(*) AS n FROM stock_commands c JOIN orders o ON o.id = c.order_id WHERE o.idempotency_key LIKE $1 AND c.done_at IS NULL`,
          [`${plan.keyPrefix}%`],
        )
      ).rows;
      const { rows: reservations } = await inventoryDb.query<{ orderId: string; status: string; lines: Line[] }>(
        `SELECT order_id::text AS "orderId", status::text AS status, lines FROM stock_reservations
          WHERE order_id = ANY($1::int[]) OR EXISTS (SELECT 1 FROM jsonb_array_elements(lines) AS e WHERE e->>'upc' = ANY($2::text[]))`,
        [orders.map((o) => o.id), upcs],
      );
      // Every reservation in inventory, not only the run's: none may lack its order.
      const { rows: all } = await inventoryDb.query<{ id: string }>('SELECT order_id::text AS id FROM stock_reservations');
      const { rows: existing } = await ordersDb.query<{ id: string }>('SELECT id::text AS id FROM orders WHERE id = ANY($1::int[])', [all.map((r) => r.id)]);
      const known = new Set(existing.map((r) => r.id));
      const { rows: stock } = await inventoryDb.query<{ upc: string; quantity: number }>('SELECT upc, quantity FROM inventory_items WHERE upc = ANY($1::text[])', [upcs]);
      return {
        orders,
        unansweredCommands: Number(commands?.n ?? 0),
        reservations,
        orphanReservations: all.map((r) => r.id).filter((id) => !known.has(id)),
        quantities: new Map(stock.map((s) => [s.upc, s.quantity])),
      };
    }),
  );
}

/** Polls until every order of the run is decided and every stock command answered, or the deadline; when that was, or null. */
export async function waitUntilDecided(urls: { orders: string; inventory: string }, run: OrderRun, deadline: number): Promise<number | null> {
  for (;;) {
    const done = run.finishedAt !== null;
    if (done) {
      const state = await withClient(urls.orders, async (db) => {
        const { rows } = await db.query<{ pending: string; commands: string }>(
          `SELECT (SELECT count(*) FROM orders WHERE idempotency_key LIKE $1 AND status = 'PENDING') AS pending,
                  (SELECT count(*) FROM stock_commands c JOIN orders o ON o.id = c.order_id WHERE o.idempotency_key LIKE $1 AND c.done_at IS NULL) AS commands`,
          [`${run.plan.keyPrefix}%`],
        );
        return rows[0]!;
      }).catch(() => null);
      if (state && Number(state.pending) === 0 && Number(state.commands) === 0) return Date.now();
    }
    if (Date.now() >= deadline) return null;
    await sleep(250);
  }
}

export type PhaseName = 'before' | 'fault' | 'after';
export interface RunPhase {
  sent: number;
  byKind: Record<AnswerKind, number>;
  /** Failed answers by code. */
  failedByCode: Record<string, number>;
  p99Ms: number;
  maxMs: number;
}

export interface OrderRunResult {
  products: Array<{ upc: string; start: number; final: number | null; reserved: number }>;
  phases: Record<PhaseName, RunPhase>;
  totals: Record<AnswerKind, number>;
  /** From the restart to every order decided and every stock command answered; null: not within DECIDE_WITHIN_MS. */
  decidedAfterRestartMs: number | null;
  /** From the run's last answer to that moment. */
  decidedAfterLastAnswerMs: number | null;
  checks: OrderRunChecks;
}

export interface OrderRunChecks {
  /** (a) CONFIRMED orders without a RESERVED reservation of the same lines, and reservations RESERVED for an order not CONFIRMED. */
  confirmedWithoutReservation: string[];
  reservedNotConfirmed: string[];
  rejectedMismatch: string[];
  /** (b) Reservations whose order is not in the orders database. */
  orphanReservations: string[];
  /** (c) Acknowledged keys not stored (or stored under another id), and answers the final state contradicts. */
  acknowledged: number;
  missingAcknowledged: string[];
  contradicted: string[];
  /** (d) Orders still PENDING and stock commands unanswered at the check. */
  pending: number;
  unansweredCommands: number;
  /** (e) Products whose stock does not add up, or is negative. */
  unconserved: string[];
  stored: number;
}

const sameLines = (a: Line[], b: Line[]) => {
  const canon = (lines: Line[]) => JSON.stringify([...lines].sort((x, y) => (x.upc < y.upc ? -1 : x.upc > y.upc ? 1 : 0)).map((l) => [l.upc, l.quantity]));
  return canon(a) === canon(b);
};

/** Checks (a) to (e) on the run's answers and the databases' final state. */
export function judgeOrderRun(plan: OrderRunPlan, answers: Iterable<RunAnswer>, state: RunState): OrderRunChecks {
  const reservationOf = new Map(state.reservations.map((r) => [r.orderId, r]));
  const orderByKey = new Map(state.orders.map((o) => [o.key, o]));
  const orderById = new Map(state.orders.map((o) => [o.id, o]));
  const confirmedWithoutReservation: string[] = [];
  const rejectedMismatch: string[] = [];
  for (const order of state.orders) {
    const reservation = reservationOf.get(order.id);
    if (order.status === 'CONFIRMED' && (reservation?.status !== 'RESERVED' || !sameLines(reservation.lines, order.lines))) confirmedWithoutReservation.push(order.id);
    if (order.status === 'REJECTED' && reservation?.status !== 'REJECTED') rejectedMismatch.push(order.id);
  }
  const reservedNotConfirmed = state.reservations.filter((r) => r.status === 'RESERVED' && orderById.get(r.orderId)?.status !== 'CONFIRMED').map((r) => r.orderId);

  const missingAcknowledged: string[] = [];
  const contradicted: string[] = [];
  let acknowledged = 0;
  for (const answer of answers) {
    if (answer.orderId === undefined) continue;
    acknowledged += 1;
    const order = orderByKey.get(answer.key);
    if (!order || order.id !== answer.orderId) {
      missingAcknowledged.push(answer.key);
      continue;
    }
    // An answer stands: CONFIRMED stays CONFIRMED, OUT_OF_STOCK is REJECTED; PENDING may become either.
    if ((answer.kind === 'CONFIRMED' && order.status !== 'CONFIRMED') || (answer.kind === 'OUT_OF_STOCK' && order.status !== 'REJECTED')) {
      contradicted.push(`${answer.key}: answered ${answer.kind}, now ${order.status}`);
    }
  }

  const unconserved: string[] = [];
  for (const product of plan.products) {
    const reserved = reservedUnits(state, product.upc);
    const final = state.quantities.get(product.upc);
    if (final === undefined || final < 0 || product.start - reserved !== final) {
      unconserved.push(`${product.upc}: ${product.start} - ${reserved} reserved != ${final ?? 'no row'}`);
    }
  }
  return {
    confirmedWithoutReservation,
    reservedNotConfirmed,
    rejectedMismatch,
    orphanReservations: state.orphanReservations,
    acknowledged,
    missingAcknowledged,
    contradicted,
    pending: state.orders.filter((o) => o.status === 'PENDING').length,
    unansweredCommands: state.unansweredCommands,
    unconserved,
    stored: state.orders.length,
  };
}

/** Units of a product held by the RESERVED (not RELEASED, not REJECTED) reservations. */
export function reservedUnits(state: Pick<RunState, 'reservations'>, upc: string): number {
  return state.reservations.filter((r) => r.status === 'RESERVED').reduce((sum, r) => sum + r.lines.filter((l) => l.upc === upc).reduce((n, l) => n + l.quantity, 0), 0);
}

/** Counts the run's answers per phase (as the load's phases: a request in flight during the fault belongs to it). */
export function runPhases(answers: Iterable<RunAnswer>, faultAt: number, repairedAt: number): Record<PhaseName, RunPhase> {
  const empty = (): RunPhase => ({ sent: 0, byKind: { CONFIRMED: 0, PENDING: 0, OUT_OF_STOCK: 0, failed: 0 }, failedByCode: {}, p99Ms: 0, maxMs: 0 });
  const phases: Record<PhaseName, RunPhase> = { before: empty(), fault: empty(), after: empty() };
  const latencies: Record<PhaseName, number[]> = { before: [], fault: [], after: [] };
  for (const answer of answers) {
    const phase: PhaseName = answer.end < faultAt ? 'before' : answer.start < repairedAt ? 'fault' : 'after';
    const stats = phases[phase];
    stats.sent += 1;
    stats.byKind[answer.kind] += 1;
    if (answer.kind === 'failed') stats.failedByCode[answer.code ?? 'NO_CODE'] = (stats.failedByCode[answer.code ?? 'NO_CODE'] ?? 0) + 1;
    latencies[phase].push(answer.end - answer.start);
  }
  for (const name of ['before', 'fault', 'after'] as const) {
    const sorted = latencies[name].sort((a, b) => a - b);
    phases[name].p99Ms = sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]! : 0;
    phases[name].maxMs = sorted.at(-1) ?? 0;
  }
  return phases;
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
