import { SUBGRAPHS, type SubgraphName } from '@shop/db';
import { until } from '@shop/test-support';
import { sleep } from './exec.ts';
import type { ChaosStack } from './stack.ts';

/** When the fault began and when its cause was gone again (the service back and healthy). */
export interface FaultTimes {
  faultAt: number;
  repairedAt: number;
  /** What happened while injecting it, for the table (e.g. how the gateway exited). */
  notes: string[];
  /** Hang only: when the gateway's circuit to the hung subgraph was first seen open (its /metrics, polled), or null if never. */
  circuitOpenAt?: number | null;
}

export interface Scenario {
  id: 'kill-subgraph' | 'hang-subgraph' | 'stop-redis' | 'restart-postgres' | 'sigterm-gateway' | 'order-run-kill-inventory' | 'order-run-kill-orders';
  title: string;
  /**
   * Set for the order runs of issue 11: besides the load, a run of ORDER_RUN_SIZE placeOrder calls
   * (its own products, some scarce) is sent, the fault is injected once half of it was sent, and
   * both databases are checked after the restart (order-run.ts). The number picks the run's products.
   */
  orderRun?: { slot: number };
  /** The parts whose fields may be missing while the fault lasts: every other field must be there. */
  faulted: ReadonlySet<SubgraphName>;
  /** Injects the fault, holds it for `holdMs`, undoes it; resolves once the cause is repaired. */
  inject(stack: ChaosStack, holdMs: number): Promise<FaultTimes>;
}

/** The subgraph the subgraph faults hit: it contributes fields (inStock, quantity) to products owned elsewhere. */
export const VICTIM: SubgraphName = 'inventory';
const ALL = new Set(SUBGRAPHS);

export const SCENARIOS: Scenario[] = [
  {
    id: 'kill-subgraph',
    title: `kill a subgraph (SIGKILL ${VICTIM}, started again after the hold)`,
    faulted: new Set([VICTIM]),
    inject: (stack, holdMs) => killAndRestart(stack, VICTIM, holdMs),
  },
  {
    id: 'hang-subgraph',
    title: `hang a subgraph (SIGSTOP ${VICTIM}, SIGCONT after the hold)`,
    faulted: new Set([VICTIM]),
    async inject(stack, holdMs) {
      const faultAt = Date.now();
      stack.signal(VICTIM, 'SIGSTOP');
      const circuitOpenAt = await watchCircuitOpen(stack, VICTIM, faultAt + holdMs);
      await sleep(faultAt + holdMs - Date.now());
      stack.signal(VICTIM, 'SIGCONT');
      return { faultAt, repairedAt: Date.now(), notes: [], circuitOpenAt };
    },
  },
  {
    id: 'stop-redis',
    title: 'stop Redis (SIGKILL redis-server, started again empty after the hold)',
    // Redis holds only shared caches and counters: no field may go missing.
    faulted: new Set(),
    async inject(stack, holdMs) {
      const faultAt = Date.now();
      await stack.redis.kill();
      await sleep(holdMs - (Date.now() - faultAt));
      await stack.redis.start();
      return { faultAt, repairedAt: Date.now(), notes: [] };
    },
  },
  {
    id: 'restart-postgres',
    title: 'restart PostgreSQL (pg_ctl stop -m fast, down for the hold, pg_ctl start)',
    // Every subgraph's database lives on the one server.
    faulted: ALL,
    async inject(stack, holdMs) {
      const faultAt = Date.now();
      await stack.postgres.stop();
      const downAt = Date.now();
      await sleep(holdMs - (downAt - faultAt));
      await stack.postgres.start();
      const repairedAt = Date.now();
      return { faultAt, repairedAt, notes: [`stopped in ${((downAt - faultAt) / 1000).toFixed(1)} s, accepting connections again after ${((repairedAt - faultAt) / 1000).toFixed(1)} s`] };
    },
  },
  {
    id: 'sigterm-gateway',
    title: 'SIGTERM the gateway (it drains and exits; started again)',
    faulted: ALL,
    async inject(stack) {
      const faultAt = Date.now();
      stack.signal('gateway', 'SIGTERM');
      // Its drain is bounded (DRAIN_TIMEOUT_MS, 10 s); one that does not exit by itself is a finding, and then killed.
      let killed = false;
      const timer = setTimeout(() => {
        killed = stack.signal('gateway', 'SIGKILL');
      }, 30_000);
      const exit = await stack.exited('gateway');
      clearTimeout(timer);
      const exitedAt = Date.now();
      await stack.start('gateway');
      const repairedAt = Date.now();
      const how = killed ? 'had not exited 30 s after SIGTERM: SIGKILLed' : exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
      return {
        faultAt,
        repairedAt,
        notes: [`gateway drained and exited in ${((exitedAt - faultAt) / 1000).toFixed(1)} s (${how}); ready again after ${((repairedAt - faultAt) / 1000).toFixed(1)} s`],
      };
    },
  },
  {
    id: 'order-run-kill-inventory',
    title: 'kill inventory during an order run (SIGKILL inventory half-way through 500 placeOrder calls, started again after the hold)',
    faulted: new Set(['inventory']),
    orderRun: { slot: 0 },
    inject: (stack, holdMs) => killAndRestart(stack, 'inventory', holdMs),
  },
  {
    id: 'order-run-kill-orders',
    title: 'kill orders during an order run (SIGKILL orders half-way through 500 placeOrder calls, started again after the hold)',
    faulted: new Set(['orders']),
    orderRun: { slot: 1 },
    inject: (stack, holdMs) => killAndRestart(stack, 'orders', holdMs),
  },
];

/** SIGKILL a subgraph, hold, start it again; repaired once it is healthy. */
async function killAndRestart(stack: ChaosStack, victim: SubgraphName, holdMs: number): Promise<FaultTimes> {
  const faultAt = Date.now();
  stack.signal(victim, 'SIGKILL');
  await stack.exited(victim);
  await sleep(holdMs - (Date.now() - faultAt));
  const restartAt = Date.now();
  await stack.start(victim);
  const repairedAt = Date.now();
  return { faultAt, repairedAt, notes: [`${victim} restarted and healthy in ${((repairedAt - restartAt) / 1000).toFixed(1)} s`] };
}

/** Waits until every service answers its probe again (after a fault, before the next one). */
export async function waitForHealthyStack(stack: ChaosStack, timeoutMs: number): Promise<void> {
  await until(async () => (await Promise.all([...SUBGRAPHS, 'gateway' as const].map((name) => stack.healthy(name)))).every(Boolean), {
    timeoutMs,
    intervalMs: 250,
    what: 'every service healthy',
  });
}

/**
 * Polls the gateway's /metrics every 200 ms until `subgraph_circuit_state{subgraph,state="open"}` is 1
 * or `until` passes: when the gateway knew the subgraph hangs, which the hang's criteria start from.
 */
async function watchCircuitOpen(stack: ChaosStack, subgraph: SubgraphName, until: number): Promise<number | null> {
  const { address, path } = await stack.gatewayMetricsTarget();
  const open = new RegExp(`^subgraph_circuit_state\\{[^}]*subgraph="${subgraph}"[^}]*state="open"[^}]*\\} 1$`, 'm');
  while (Date.now() < until) {
    const text = await fetch(`http://${address}${path}`, { signal: AbortSignal.timeout(1_000) })
      .then((r) => r.text())
      .catch(() => '');
    if (open.test(text)) return Date.now();
    await sleep(200);
  }
  return null;
}
