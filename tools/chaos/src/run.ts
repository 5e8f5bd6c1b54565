import pg from 'pg';
import type { SubgraphName } from '@shop/db';
import { tokenFor, until } from '@shop/test-support';
import { outcomeOf, percentile, phaseStats, recoveryOf } from './classify.ts';
import { dataCriteria, scenarioCriteria, SUBGRAPH_TIMEOUT_MS, type AlertReport, type Criterion, type DataCheck, type ScenarioResult } from './criteria.ts';
import { sleep } from './exec.ts';
import { startLoad, type Load, type Sample } from './load.ts';
import { loadUserIds, newRunId, operationMix, type Operation } from './operations.ts';
import {
  DECIDE_WITHIN_MS,
  judgeOrderRun,
  ORDER_RUN_SIZE,
  orderRunPlan,
  readRunState,
  reservedUnits,
  runPhases,
  startOrderRun,
  waitUntilDecided,
  type OrderRunResult,
} from './order-run.ts';
import { startPrometheus, type RunningPrometheus } from './prometheus.ts';
import { SCENARIOS, waitForHealthyStack, type Scenario } from './scenarios.ts';
import { startChaosStack, type ChaosStack } from './stack.ts';

export interface ChaosOptions {
  short: boolean;
  /** Scenario ids to run (all when empty). */
  only: string[];
  /** Path of Prometheus, or null to run without alert checks. */
  prometheus: string | null;
  /** `for:` of the alert rules multiplied by this (1: as written). */
  alertForScale: number;
  baselineMs: number;
  holdMs: number;
  /** Hang faults are held longer: a hang is detected only after the subgraph timeout. */
  hangHoldMs: number;
  afterMs: number;
  concurrency: number;
  ratePerSecond: number;
  maxRequests: number;
  /** placeOrder calls per second of an order run (ORDER_RUN_SIZE of them, beside the load). */
  orderRunRate: number;
  logLevel: string;
  progress: (line: string) => void;
}

export interface ChaosResult {
  runId: string;
  results: ScenarioResult[];
  data: DataCheck;
  criteria: Criterion[];
  /** Faults no alert caught (pending or firing) while they lasted. */
  uncaught: string[];
  prometheus: boolean;
  totalRequests: number;
  durationMs: number;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const startedAt = Date.now();
  const { progress } = options;
  const stack = await startChaosStack({ logLevel: options.logLevel, progress });
  try {
    return await runOnStack(stack, options, startedAt);
  } catch (error) {
    progress(`the services' last log lines:\n${await stack.logTail()}`);
    throw error;
  }
}

async function runOnStack(stack: ChaosStack, options: ChaosOptions, startedAt: number): Promise<ChaosResult> {
  const { progress } = options;
  let prometheus: RunningPrometheus | null = null;
  if (options.prometheus) {
    const gateway = await stack.gatewayMetricsTarget();
    const subgraphs = Object.fromEntries(Object.entries(stack.subgraphUrls).map(([name, url]) => [name, new URL(url).host])) as Record<SubgraphName, string>;
    prometheus = await startPrometheus({ binary: options.prometheus, targets: { gateway, subgraphs }, forScale: options.alertForScale, intervalSeconds: 1 });
    progress(`Prometheus at ${prometheus.url} scraping the gateway (${gateway.address}${gateway.path}) and the five subgraphs every 1 s`);
  }

  const runId = newRunId();
  // Valid for the whole run: a token expiring mid-run would read as a fault.
  const tokens = await Promise.all(loadUserIds(8).map((id) => tokenFor(id, { expiresIn: '2h' })));
  const operations = operationMix({ runId, tokens });
  const load = startLoad({
    url: stack.gatewayUrl,
    operations,
    concurrency: options.concurrency,
    ratePerSecond: options.ratePerSecond,
    maxRequests: options.maxRequests,
    requestTimeoutMs: 35_000,
    retryRefusedForMs: 20_000,
  });
  progress(`load: ${options.ratePerSecond} requests/s, at most ${options.concurrency} in flight, mix ${operations.map((o) => o.name).join(', ')}`);

  const results: ScenarioResult[] = [];
  try {
    const scenarios = SCENARIOS.filter((s) => options.only.length === 0 || options.only.includes(s.id));
    for (const scenario of scenarios) {
      await settle(stack, load, operations);
      results.push(await runScenario(stack, load, operations, scenario, options, prometheus, { runId, tokens }));
    }
    await settle(stack, load, operations);
  } finally {
    await load.stop();
  }
  const data = await checkOrders(stack, runId, load);
  const criteria = [...results.flatMap(scenarioCriteria), ...dataCriteria(data)];
  const uncaught = prometheus ? results.filter((r) => r.alerts.length === 0).map((r) => r.scenario.title) : [];
  return { runId, results, data, criteria, uncaught, prometheus: prometheus !== null, totalRequests: load.samples.length, durationMs: Date.now() - startedAt };
}

/**
 * Between faults: every service healthy again and every operation of the mix answered fully
 * (the previous fault fully recovered), so that no fault's tail is counted in the next.
 */
async function settle(stack: ChaosStack, load: Load, operations: Operation[]): Promise<void> {
  await waitForHealthyStack(stack, 60_000);
  const since = Date.now();
  await until(
    () => operations.every((op) => load.samples.some((s) => s.op === op.name && s.start >= since && outcomeOf(s, new Set()) === 'ok')),
    { timeoutMs: 60_000, intervalMs: 200, what: 'a fully correct answer to every operation of the mix' },
  );
}

async function runScenario(
  stack: ChaosStack,
  load: Load,
  operations: Operation[],
  scenario: Scenario,
  options: ChaosOptions,
  prometheus: RunningPrometheus | null,
  run: { runId: string; tokens: string[] },
): Promise<ScenarioResult> {
  const holdMs = scenario.id === 'hang-subgraph' ? options.hangHoldMs : options.holdMs;
  options.progress(`scenario: ${scenario.title}, held ${(holdMs / 1000).toFixed(0)} s`);
  const begin = Date.now();
  let orderRun: OrderRunResult | undefined;
  let faultTimes;
  if (scenario.orderRun) {
    const urls = { orders: stack.databases.urls.orders, inventory: stack.databases.urls.inventory };
    const plan = orderRunPlan(run.runId, scenario.id, scenario.orderRun.slot);
    const orders = await startOrderRun({ gatewayUrl: stack.gatewayUrl, inventoryDatabaseUrl: urls.inventory, plan, tokens: run.tokens, ratePerSecond: options.orderRunRate });
    options.progress(`order run: ${ORDER_RUN_SIZE} placeOrder at ${options.orderRunRate}/s on ${plan.products.map((p) => `${p.upc} (${p.start})`).join(', ')}; the fault comes half-way`);
    const finished = orders.finished();
    finished.catch(() => {});
    await until(() => orders.sent() >= ORDER_RUN_SIZE / 2, { timeoutMs: 120_000, intervalMs: 20, what: 'half of the order run sent' });
    faultTimes = await scenario.inject(stack, holdMs);
    const deadline = faultTimes.repairedAt + DECIDE_WITHIN_MS;
    const [decidedAt] = await Promise.all([waitUntilDecided(urls, orders, deadline), finished]);
    const state = await readRunState(urls, plan);
    const answers = [...orders.answers.values()];
    const totals = { CONFIRMED: 0, PENDING: 0, OUT_OF_STOCK: 0, failed: 0 };
    for (const answer of answers) totals[answer.kind] += 1;
    orderRun = {
      products: plan.products.map((p) => ({ ...p, final: state.quantities.get(p.upc) ?? null, reserved: reservedUnits(state, p.upc) })),
      phases: runPhases(answers, faultTimes.faultAt, faultTimes.repairedAt),
      totals,
      decidedAfterRestartMs: decidedAt === null ? null : Math.max(0, decidedAt - faultTimes.repairedAt),
      decidedAfterLastAnswerMs: decidedAt === null || orders.finishedAt === null ? null : Math.max(0, decidedAt - orders.finishedAt),
      checks: judgeOrderRun(plan, answers, state),
    };
    // The load's after phase as long as for the other faults, counted from the repair.
    await sleep(options.afterMs - (Date.now() - faultTimes.repairedAt));
  } else {
    await sleep(options.baselineMs);
    faultTimes = await scenario.inject(stack, holdMs);
    await sleep(options.afterMs);
  }
  const { faultAt, repairedAt, notes } = faultTimes;
  const end = Date.now();
  await prometheus?.poll();

  const within = (from: number, to: number) => load.samples.filter((s) => s.start >= from && s.start < to);
  const faultedParts = scenario.faulted;
  // A request in flight at any moment of the fault belongs to it: one sent before the kill and
  // cut by it, or sent before the repair and answered after it.
  const ofRun = within(begin, end);
  const phases = {
    before: phaseStats(ofRun.filter((s) => s.end < faultAt), new Set()),
    fault: phaseStats(ofRun.filter((s) => s.end >= faultAt && s.start < repairedAt), faultedParts),
    after: phaseStats(ofRun.filter((s) => s.start >= repairedAt), faultedParts),
  };
  const readsFaulted = (sample: Sample) => {
    const op = operations.find((o) => o.name === sample.op);
    return faultedParts.size === 0 || (op?.parts.some((p) => faultedParts.has(p)) ?? true);
  };
  const recovery = recoveryOf(within(repairedAt, end), repairedAt, readsFaulted);
  let lateInHang: ScenarioResult['lateInHang'];
  if (scenario.id === 'hang-subgraph') {
    // Sent once the gateway's circuit to the hung subgraph was seen open (it knew), and at least a
    // second before the repair (so that an answer in time means one without it).
    const openAt = faultTimes.circuitOpenAt ?? null;
    const late = openAt === null ? [] : within(openAt + 500, repairedAt - 1_000).filter(readsFaulted);
    const latencies = late.map((s) => s.end - s.start).sort((a, b) => a - b);
    const waited = late.filter((s) => s.end - s.start >= SUBGRAPH_TIMEOUT_MS / 2 || s.end >= repairedAt).length;
    lateInHang = { requests: late.length, waited, p50Ms: percentile(latencies, 50), detectedAfterMs: openAt === null ? null : openAt - faultAt };
  }
  return {
    scenario,
    holdMs,
    phases,
    durations: { before: faultAt - begin, fault: repairedAt - faultAt, after: end - repairedAt },
    recovery,
    ...(lateInHang ? { lateInHang } : {}),
    ...(orderRun ? { orderRun } : {}),
    notes,
    alerts: prometheus ? alertsOf(prometheus, faultAt, end) : [],
  };
}

/** Alerts that became active while the fault lasted or soon after (before the scenario ended). */
function alertsOf(prometheus: RunningPrometheus, faultAt: number, end: number): AlertReport[] {
  return prometheus
    .sightings()
    .filter((a) => a.activeAt >= faultAt && a.activeAt <= end)
    .sort((a, b) => a.activeAt - b.activeAt)
    .map((a) => ({
      name: a.name,
      labels: a.labels,
      pendingAfterS: (a.activeAt - faultAt) / 1000,
      firingAfterS: a.firingAt !== null && a.firingAt <= end ? (a.firingAt - faultAt) / 1000 : null,
    }));
}

/** Orders acknowledged by the gateway against the rows of the orders database. */
async function checkOrders(stack: ChaosStack, runId: string, load: Load): Promise<DataCheck> {
  const client = new pg.Client({ connectionString: stack.databases.urls.orders });
  await client.connect();
  try {
    const { rows } = await client.query<{ key: string; n: string }>(
      'SELECT idempotency_key AS key, count(*) AS n FROM orders WHERE idempotency_key LIKE $1 GROUP BY idempotency_key',
      [`chaos-${runId}-%`],
    );
    const stored = new Map(rows.map((r) => [r.key, Number(r.n)]));
    const acknowledged = load.acknowledgedOrders;
    return {
      sent: load.sentOrders.size,
      acknowledged: acknowledged.size,
      stored: stored.size,
      lost: [...acknowledged].filter((key) => !stored.has(key)).length,
      duplicated: [...stored.values()].filter((n) => n > 1).length,
      unacknowledged: [...stored.keys()].filter((key) => !acknowledged.has(key)).length,
    };
  } finally {
    await client.end();
  }
}
