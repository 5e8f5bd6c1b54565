import { describe, expect, it } from 'vitest';
import { PRODUCT_COUNT, productUpc } from '@shop/db/seed';
import type { Sample } from '../src/load.ts';
import { ORDER_RUN_PRODUCTS, operationMix, placeOrderMissing } from '../src/operations.ts';
import { answerOf, judgeOrderRun, orderLines, orderRunPlan, runPhases, type RunAnswer, type RunState } from '../src/order-run.ts';

const sample = (overrides: Partial<Sample> = {}): Sample => ({
  op: 'placeOrder (order run)',
  start: 0,
  end: 10,
  status: 200,
  codes: [],
  missing: [],
  refused: 0,
  closed: 0,
  apqMiss: false,
  leak: false,
  ...overrides,
});

describe('order run', () => {
  const plan = orderRunPlan('r1', 'order-run-kill-inventory', 0);
  const [scarce, , plenty] = plan.products.map((p) => p.upc);

  it('orders products of its own, which the load mix never orders, with both scarce and plenty stock', () => {
    const mixUpcs = new Set<string>();
    const [, , placeOrder] = operationMix({ runId: 'x', tokens: ['t'] });
    for (let i = 0; i < PRODUCT_COUNT * 2; i++) {
      const body = JSON.parse(placeOrder!.prepare().body) as { variables: { input: { lines: Array<{ upc: string }> } } };
      for (const line of body.variables.input.lines) mixUpcs.add(line.upc);
    }
    const runs = [0, 1, 2, 3].flatMap((slot) => orderRunPlan('r1', 't', slot).products.map((p) => p.upc));
    expect(new Set(runs).size).toBe(ORDER_RUN_PRODUCTS);
    expect(runs.filter((upc) => mixUpcs.has(upc))).toEqual([]);
    expect(runs).toContain(productUpc(PRODUCT_COUNT - 1));
    expect(() => orderRunPlan('r1', 't', 4)).toThrow(RangeError);
    expect(plan.products.map((p) => p.start)).toEqual([100, 30, 10_000, 10_000, 10_000]);

    for (let n = 1; n <= 500; n++) {
      const lines = orderLines(plan, n);
      expect(new Set(lines.map((l) => l.upc)).size).toBe(lines.length);
      if (n % 3 === 0) expect(lines).toHaveLength(2);
    }
    // The first product is asked about twice its stock over the run: it runs out about half-way.
    const asked = Array.from({ length: 500 }, (_, i) => orderLines(plan, i + 1)).flat().filter((l) => l.upc === scarce).reduce((n, l) => n + l.quantity, 0);
    expect(asked).toBeGreaterThan(150);
  });

  it('classifies answers: the order status, OUT_OF_STOCK with its order id, or failed with a code', () => {
    expect(answerOf('k1', { data: { placeOrder: { id: '7', total: 100, status: 'CONFIRMED' } } }, sample())).toMatchObject({ kind: 'CONFIRMED', orderId: '7' });
    expect(answerOf('k2', { data: { placeOrder: { id: '8', total: 100, status: 'PENDING' } } }, sample())).toMatchObject({ kind: 'PENDING', orderId: '8' });
    const refused = { data: null, errors: [{ message: 'Not enough stock', extensions: { code: 'OUT_OF_STOCK', orderId: '9' } }] };
    expect(answerOf('k3', refused, sample({ answerCodes: ['OUT_OF_STOCK'] }))).toMatchObject({ kind: 'OUT_OF_STOCK', orderId: '9' });
    const unreachable = { data: null, errors: [{ message: 'The orders service is unavailable', extensions: { code: 'SUBGRAPH_UNAVAILABLE' } }] };
    expect(answerOf('k4', unreachable, sample({ codes: ['SUBGRAPH_UNAVAILABLE'] }))).toEqual({ key: 'k4', kind: 'failed', code: 'SUBGRAPH_UNAVAILABLE', start: 0, end: 10 });
    expect(answerOf('k5', undefined, sample({ status: null, codes: ['UND_ERR_SOCKET'] }))).toMatchObject({ kind: 'failed', code: 'UND_ERR_SOCKET' });

    // OUT_OF_STOCK is a whole answer; orders unreachable costs only orders' part, not products'.
    expect(placeOrderMissing(refused, ['orders', 'products'])).toEqual(new Set());
    expect(placeOrderMissing(unreachable, ['orders', 'products'])).toEqual(new Set(['orders']));
    expect(placeOrderMissing({ data: null, errors: [{ extensions: { code: 'PRODUCTS_UNAVAILABLE' } }] }, ['orders', 'products'])).toEqual(new Set(['orders', 'products']));
  });

  const answer = (key: string, kind: RunAnswer['kind'], orderId?: string): RunAnswer => ({ key, kind, start: 0, end: 1, ...(orderId ? { orderId } : {}) });
  const consistent = (): RunState => ({
    orders: [
      { id: '1', key: 'k1', status: 'CONFIRMED', lines: [{ upc: scarce!, quantity: 2 }, { upc: plenty!, quantity: 1 }] },
      { id: '2', key: 'k2', status: 'REJECTED', lines: [{ upc: scarce!, quantity: 3 }] },
      { id: '3', key: 'k3', status: 'CONFIRMED', lines: [{ upc: plenty!, quantity: 1 }] },
    ],
    unansweredCommands: 0,
    // Stored sorted by upc, as inventory keeps them.
    reservations: [
      { orderId: '1', status: 'RESERVED', lines: [{ upc: plenty!, quantity: 1 }, { upc: scarce!, quantity: 2 }].sort((a, b) => a.upc.localeCompare(b.upc)) },
      { orderId: '2', status: 'REJECTED', lines: [{ upc: scarce!, quantity: 3 }] },
      { orderId: '3', status: 'RESERVED', lines: [{ upc: plenty!, quantity: 1 }] },
    ],
    orphanReservations: [],
    quantities: new Map(plan.products.map((p) => [p.upc, p.upc === scarce ? 98 : p.upc === plenty ? 9_998 : p.start])),
  });
  const answers = [answer('k1', 'CONFIRMED', '1'), answer('k2', 'OUT_OF_STOCK', '2'), answer('k3', 'PENDING', '3'), answer('k4', 'failed')];

  it('passes a consistent outcome', () => {
    expect(judgeOrderRun(plan, answers, consistent())).toEqual({
      confirmedWithoutReservation: [],
      reservedNotConfirmed: [],
      rejectedMismatch: [],
      orphanReservations: [],
      acknowledged: 3,
      missingAcknowledged: [],
      contradicted: [],
      pending: 0,
      unansweredCommands: 0,
      unconserved: [],
      stored: 3,
    });
  });

  it('finds each kind of inconsistency', () => {
    const state = consistent();
    state.reservations[0]!.lines = [{ upc: scarce!, quantity: 2 }]; // other lines than the order's
    state.reservations.push({ orderId: '4', status: 'RESERVED', lines: [{ upc: scarce!, quantity: 1 }] }); // no such order of the run
    state.orders[2]!.status = 'PENDING';
    state.orders = state.orders.filter((o) => o.key !== 'k2');
    state.orphanReservations = ['4'];
    state.unansweredCommands = 1;
    const checks = judgeOrderRun(plan, [...answers, answer('k5', 'CONFIRMED', '5')], state);
    expect(checks.confirmedWithoutReservation).toEqual(['1']);
    expect(checks.reservedNotConfirmed).toEqual(['3', '4']);
    expect(checks.orphanReservations).toEqual(['4']);
    expect(checks.missingAcknowledged).toEqual(['k2', 'k5']);
    expect(checks.pending).toBe(1);
    expect(checks.unansweredCommands).toBe(1);
    // 100 - (2 + 1) reserved is 97, not the 98 left; the plenty product lost its line of order 1.
    expect(checks.unconserved).toEqual([`${scarce}: 100 - 3 reserved != 98`, `${plenty}: 10000 - 1 reserved != 9998`]);

    const contradicted = consistent();
    contradicted.orders[0]!.status = 'REJECTED';
    contradicted.quantities.set(plenty!, -1);
    const again = judgeOrderRun(plan, answers, contradicted);
    expect(again.contradicted).toEqual(['k1: answered CONFIRMED, now REJECTED']);
    expect(again.rejectedMismatch).toEqual(['1']);
    expect(again.unconserved).toEqual([`${plenty}: 10000 - 2 reserved != -1`]);
  });

  it('counts answers per phase: in flight at any moment of the fault belongs to it', () => {
    const phases = runPhases(
      [
        { key: 'a', kind: 'CONFIRMED', start: 0, end: 50 },
        { key: 'b', kind: 'PENDING', start: 90, end: 120 },
        { key: 'c', kind: 'failed', code: 'SUBGRAPH_UNAVAILABLE', start: 150, end: 160 },
        { key: 'd', kind: 'OUT_OF_STOCK', start: 210, end: 220 },
      ],
      100,
      200,
    );
    expect(phases.before).toMatchObject({ sent: 1, byKind: { CONFIRMED: 1, PENDING: 0, OUT_OF_STOCK: 0, failed: 0 } });
    expect(phases.fault).toMatchObject({ sent: 2, byKind: { CONFIRMED: 0, PENDING: 1, OUT_OF_STOCK: 0, failed: 1 }, failedByCode: { SUBGRAPH_UNAVAILABLE: 1 }, maxMs: 30 });
    expect(phases.after).toMatchObject({ sent: 1, byKind: { CONFIRMED: 0, PENDING: 0, OUT_OF_STOCK: 1, failed: 0 } });
  });
});
