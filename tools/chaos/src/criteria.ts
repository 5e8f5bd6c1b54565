import type { PhaseStats, Recovery } from './classify.ts';
import { DECIDE_WITHIN_MS, ORDER_RUN_SIZE, type OrderRunResult } from './order-run.ts';
import type { Scenario } from './scenarios.ts';

/** What one scenario measured, per phase: before the fault, while it lasted, after it was repaired. */
export interface ScenarioResult {
  scenario: Scenario;
  holdMs: number;
  phases: { before: PhaseStats; fault: PhaseStats; after: PhaseStats };
  /** Durations of the phases in ms. */
  durations: { before: number; fault: number; after: number };
  recovery: Recovery;
  /** Requests to the faulted part started after the hang should have been detected: latencies (hang only). */
  lateInHang?: { requests: number; waited: number; p50Ms: number; detectedAfterMs: number | null };
  /** The order run's answers and the two databases' state after it (order-run scenarios only). */
  orderRun?: OrderRunResult;
  notes: string[];
  alerts: AlertReport[];
}

export interface AlertReport {
  name: string;
  labels: Record<string, string>;
  /** Seconds from the fault's start to pending (condition true) and to firing; firing null: did not fire. */
  pendingAfterS: number;
  firingAfterS: number | null;
}

export interface DataCheck {
  sent: number;
  acknowledged: number;
  stored: number;
  /** Acknowledged to the client but not in the orders database. */
  lost: number;
  /** Idempotency keys stored more than once. */
  duplicated: number;
  /** Stored but never acknowledged (the answer was lost; a retry with the key would return it). */
  unacknowledged: number;
}

export interface Criterion {
  scenario: string;
  text: string;
  pass: boolean;
  detail: string;
  /**
   * Set while the behaviour is another part of issue 10 that has not landed yet: the result is
   * reported but does not fail the run. Removed once it has landed, so a regression fails CI.
   */
  awaiting?: string;
}

/**
 * After the fetch timeout, the breaker opens once more than half of its last 20 calls failed: the
 * window is full of successes from before the hang, and at the short run's 10 requests a second
 * (fetches to the hung subgraph deduplicated) the failures take seconds to outnumber them; 6.6 s
 * measured at load average 16. A breaker over a time window would know at the first timeouts.
 */
const HANG_DETECTION_SLACK_MS = 9_000;
/** The gateway's default subgraph fetch timeout (SUBGRAPH_TIMEOUT_MS): a hung subgraph costs each request this long until a breaker opens. */
export const SUBGRAPH_TIMEOUT_MS = 10_000;
/** The gateway's default request deadline (REQUEST_TIMEOUT_MS). */
export const REQUEST_TIMEOUT_MS = 30_000;

const SUBGRAPH_CODES = new Set(['SUBGRAPH_UNAVAILABLE', 'SUBGRAPH_TIMEOUT']);
const fmtS = (ms: number | null) => (ms === null ? 'never' : `${(ms / 1000).toFixed(1)} s`);
const statuses = (stats: PhaseStats) => Object.entries(stats.byStatus).map(([s, n]) => `${s}: ${n}`).join(', ') || 'none';

/** The issue's done-when criteria, checked on what the run measured. */
export function scenarioCriteria(result: ScenarioResult): Criterion[] {
  const { scenario, phases, recovery } = result;
  const id = scenario.id;
  const during = [phases.fault, phases.after];
  const sum = (pick: (s: PhaseStats) => number) => during.reduce((n, s) => n + pick(s), 0);
  const criteria: Criterion[] = [];
  const recoveredWithin = (limitMs: number, awaiting?: string) =>
    criteria.push({
      scenario: id,
      text: `recovers within ${limitMs / 1000} s of the fault's end`,
      pass: recovery.recoveredMs !== null && recovery.recoveredMs <= limitMs,
      detail: `first request answered fully correct sent ${fmtS(recovery.recoveredMs)} after it`,
      ...(awaiting ? { awaiting } : {}),
    });

  if (id === 'kill-subgraph' || id === 'hang-subgraph' || id === 'order-run-kill-inventory' || id === 'order-run-kill-orders') {
    criteria.push({
      scenario: id,
      text: 'every answer is HTTP 200',
      pass: sum((s) => s.requests - (s.byStatus['200'] ?? 0)) === 0,
      detail: `fault: ${statuses(phases.fault)}; after: ${statuses(phases.after)}`,
    });
    criteria.push({
      scenario: id,
      text: "the other subgraphs' fields are present in every answer",
      pass: sum((s) => s.outside) === 0,
      detail: `${sum((s) => s.outside)} answers lacked fields of other subgraphs`,
    });
    const codes = Object.keys(phases.fault.byCode);
    criteria.push({
      scenario: id,
      text: `errors carry SUBGRAPH_UNAVAILABLE / SUBGRAPH_TIMEOUT, never a network address`,
      pass: codes.every((c) => SUBGRAPH_CODES.has(c)) && sum((s) => s.leaks) === 0,
      detail: `codes: ${codes.join(', ') || 'none'}; ${sum((s) => s.leaks)} messages with an address or socket error`,
    });
    if (id === 'hang-subgraph') {
      const late = result.lateInHang;
      const detected = late?.detectedAfterMs ?? null;
      criteria.push({
        scenario: id,
        text: `the gateway detects the hang: its circuit opens within ${fmtS(SUBGRAPH_TIMEOUT_MS + HANG_DETECTION_SLACK_MS)} (the fetch timeout, then enough failed fetches)`,
        pass: detected !== null && detected <= SUBGRAPH_TIMEOUT_MS + HANG_DETECTION_SLACK_MS,
        detail: detected === null ? 'the circuit was never seen open' : `open ${fmtS(detected)} into the hang`,
      });
      criteria.push({
        scenario: id,
        text: 'once the hang is detected, requests stop waiting for it (breaker open)',
        pass: late !== undefined && late.requests >= 3 && late.waited <= late.requests / 10,
        detail: late
          ? `of ${late.requests} requests reading ${[...scenario.faulted].join(', ')} sent after the circuit opened, ${late.waited} waited ${fmtS(SUBGRAPH_TIMEOUT_MS / 2)} or more or until it ended; median ${fmtS(late.p50Ms)}`
          : 'not measured',
      });
    }
    recoveredWithin(5_000);
    if (result.orderRun) criteria.push(...orderRunCriteria(id, result.orderRun));
  } else if (id === 'stop-redis') {
    criteria.push({
      scenario: id,
      text: 'no failed request',
      pass: sum((s) => s.failed) === 0,
      detail: `${sum((s) => s.failed)} failed (fault: ${statuses(phases.fault)}; codes ${Object.keys(phases.fault.byCode).join(', ') || 'none'})`,
    });
  } else if (id === 'restart-postgres') {
    const slow = Math.max(phases.fault.maxMs, phases.after.maxMs);
    const timedOut = sum((s) => (s.byCode.REQUEST_TIMEOUT ?? 0) + (s.byCode.UND_ERR_HEADERS_TIMEOUT ?? 0));
    criteria.push({
      scenario: id,
      text: 'no request waits past its deadline',
      pass: slow < REQUEST_TIMEOUT_MS && timedOut === 0,
      detail: `slowest answer ${fmtS(slow)}; ${timedOut} timed out`,
    });
    const codes = Object.keys(phases.fault.byCode);
    criteria.push({
      scenario: id,
      text: 'requests that need the database fail with DATABASE_UNAVAILABLE, never a network address',
      // placeOrder that read its orders database just before the stop may then find products' database gone: PRODUCTS_UNAVAILABLE, nothing ordered.
      pass: codes.every((c) => c === 'DATABASE_UNAVAILABLE' || c === 'PRODUCTS_UNAVAILABLE' || SUBGRAPH_CODES.has(c)) && sum((s) => s.leaks) === 0,
      detail: `codes: ${codes.join(', ') || 'none'}; ${sum((s) => s.leaks)} messages with an address or socket error`,
    });
    recoveredWithin(10_000);
  } else if (id === 'sigterm-gateway') {
    criteria.push({
      scenario: id,
      text: 'no failed request (clients retry refused and closed connections)',
      pass: sum((s) => s.failed) === 0,
      detail: `${sum((s) => s.failed)} failed; ${sum((s) => s.refused)} connection attempts refused and ${sum((s) => s.closed)} closed before an answer, retried`,
    });
    criteria.push({
      scenario: id,
      text: 'the gateway drains and exits by itself',
      pass: result.notes.some((n) => n.includes('exit code 0')),
      detail: result.notes.join('; '),
    });
  }
  return criteria;
}

const few = (items: string[]) => (items.length === 0 ? '' : `: ${items.slice(0, 5).join(', ')}${items.length > 5 ? ', …' : ''}`);

/** Issue 11's crash criterion on an order run: what both databases hold after the restart. */
export function orderRunCriteria(id: string, run: OrderRunResult): Criterion[] {
  const c = run.checks;
  // Requests the client never sent (all its connections waiting) say nothing of how placeOrder answers.
  const unsent = (phase: OrderRunResult['phases']['before']) => phase.failedByCode.CLIENT_BACKLOG_FULL ?? 0;
  const notSent = unsent(run.phases.before) + unsent(run.phases.fault) + unsent(run.phases.after);
  const failedDuringFault = run.phases.fault.byKind.failed + run.phases.after.byKind.failed - unsent(run.phases.fault) - unsent(run.phases.after);
  const failureCodes = Object.keys({ ...run.phases.fault.failedByCode, ...run.phases.after.failedByCode, ...run.phases.before.failedByCode }).filter((code) => code !== 'CLIENT_BACKLOG_FULL');
  const unsentNote = notSent > 0 ? `; ${notSent} not sent (CLIENT_BACKLOG_FULL: every client connection was waiting), not counted` : '';
  const criteria: Criterion[] = [
    {
      scenario: id,
      text: 'the run decided orders both ways (CONFIRMED and OUT_OF_STOCK answers)',
      pass: run.totals.CONFIRMED > 0 && run.totals.OUT_OF_STOCK > 0,
      detail: `${run.totals.CONFIRMED} CONFIRMED, ${run.totals.PENDING} PENDING, ${run.totals.OUT_OF_STOCK} OUT_OF_STOCK, ${run.totals.failed} failed of ${ORDER_RUN_SIZE}`,
    },
    {
      scenario: id,
      text: 'every CONFIRMED order has exactly its reservation (RESERVED, same lines), and only CONFIRMED orders hold one',
      pass: c.confirmedWithoutReservation.length === 0 && c.reservedNotConfirmed.length === 0 && c.rejectedMismatch.length === 0,
      detail:
        `${c.confirmedWithoutReservation.length} CONFIRMED without it${few(c.confirmedWithoutReservation)}; ` +
        `${c.reservedNotConfirmed.length} RESERVED for an order not CONFIRMED${few(c.reservedNotConfirmed)}; ${c.rejectedMismatch.length} REJECTED orders without a REJECTED reservation${few(c.rejectedMismatch)}`,
    },
    {
      scenario: id,
      text: 'no reservation lacks its order',
      pass: c.orphanReservations.length === 0,
      detail: `${c.orphanReservations.length} reservations in inventory whose order is not in orders${few(c.orphanReservations)}`,
    },
    {
      scenario: id,
      text: 'no acknowledged order is missing, and no answer is contradicted (CONFIRMED stays, OUT_OF_STOCK is REJECTED)',
      pass: c.missingAcknowledged.length === 0 && c.contradicted.length === 0,
      detail: `${c.acknowledged} acknowledged, ${c.stored} stored, ${c.missingAcknowledged.length} missing${few(c.missingAcknowledged)}; ${c.contradicted.length} contradicted${few(c.contradicted)}`,
    },
    {
      scenario: id,
      text: `every order decided and every stock command answered within ${DECIDE_WITHIN_MS / 1000} s of the restart`,
      pass: run.decidedAfterRestartMs !== null && c.pending === 0 && c.unansweredCommands === 0,
      detail:
        run.decidedAfterRestartMs === null
          ? `after ${DECIDE_WITHIN_MS / 1000} s: ${c.pending} orders PENDING, ${c.unansweredCommands} stock commands unanswered`
          : `all decided ${fmtS(run.decidedAfterRestartMs)} after the restart (${fmtS(run.decidedAfterLastAnswerMs)} after the run's last answer)`,
    },
    {
      scenario: id,
      text: 'stock is conserved: start - units RESERVED = final, never negative',
      pass: c.unconserved.length === 0,
      detail: c.unconserved.length ? c.unconserved.join('; ') : run.products.map((p) => `${p.upc}: ${p.start} - ${p.reserved} = ${p.final}`).join('; '),
    },
  ];
  if (id === 'order-run-kill-inventory') {
    criteria.push({
      scenario: id,
      text: 'no placeOrder fails while inventory is down (answered PENDING, decided later)',
      pass: failedDuringFault === 0,
      detail: `${failedDuringFault} failed during or after the fault${failureCodes.length ? ` (${failureCodes.join(', ')})` : ''}${unsentNote}`,
    });
  } else {
    criteria.push({
      scenario: id,
      text: 'placeOrder fails only with SUBGRAPH_UNAVAILABLE / SUBGRAPH_TIMEOUT while orders is down',
      pass: failureCodes.every((code) => SUBGRAPH_CODES.has(code)),
      detail: `failure codes: ${failureCodes.join(', ') || 'none'}${unsentNote}`,
    });
  }
  return criteria;
}

export function dataCriteria(data: DataCheck): Criterion[] {
  return [
    {
      scenario: 'data',
      text: 'every acknowledged order is stored',
      pass: data.lost === 0,
      detail: `${data.acknowledged} acknowledged, ${data.stored} stored, ${data.lost} lost`,
    },
    {
      scenario: 'data',
      text: 'no order stored twice for one idempotency key',
      pass: data.duplicated === 0,
      detail: `${data.duplicated} duplicated keys`,
    },
  ];
}
