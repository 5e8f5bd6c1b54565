import { Counter, Gauge, type Registry } from 'prom-client';
import type { FaultReason } from '../subgraph-fetch/faults.ts';
import type { CircuitStateName, ResilienceEvents } from '../subgraph-fetch/resilience.ts';

const CIRCUIT_STATES: readonly CircuitStateName[] = ['closed', 'open', 'half_open'];

/**
 * What the gateway counts of subgraph faults (subgraph-fetch/resilience.ts, the data source),
 * on the gateway's registry beside its other metrics. Labels are bounded: subgraph names come
 * from the supergraph, codes and reasons from closed sets.
 */
export function subgraphFaultMetrics(registry: Registry) {
  const registers = [registry];
  const fetchFailures = new Counter({
    name: 'subgraph_fetch_failures_total',
    help: 'Subgraph fetches that failed and were answered as null fields with an error, by subgraph, code (SUBGRAPH_UNAVAILABLE, SUBGRAPH_TIMEOUT) and reason.',
    labelNames: ['subgraph', 'code', 'reason'] as const,
    registers,
  });
  const retries = new Counter({
    name: 'subgraph_retries_total',
    help: 'Retries of subgraph query fetches, by subgraph and outcome of the retry (ok, failed).',
    labelNames: ['subgraph', 'outcome'] as const,
    registers,
  });
  const retryBudgetExhausted = new Counter({
    name: 'subgraph_retry_budget_exhausted_total',
    help: 'Retries not made because the subgraph’s retry budget was spent, by subgraph.',
    labelNames: ['subgraph'] as const,
    registers,
  });
  const events: ResilienceEvents = {
    retried: (subgraph, outcome) => retries.inc({ subgraph, outcome }),
    retryBudgetExhausted: (subgraph) => retryBudgetExhausted.inc({ subgraph }),
  };
  return {
    events,
    fetchFailed(subgraph: string, code: string, reason: FaultReason): void {
      fetchFailures.inc({ subgraph, code, reason });
    },
    /** Reports each subgraph's circuit state (1 for the current one) at every scrape. */
    observeCircuits(circuits: () => Iterable<[string, CircuitStateName]>): void {
      new Gauge({
        name: 'subgraph_circuit_state',
        help: 'State of the circuit breaker of each subgraph the gateway has called: 1 for the current state (closed, open, half_open), 0 for the others.',
        labelNames: ['subgraph', 'state'] as const,
        registers,
        collect() {
          for (const [subgraph, current] of circuits()) {
            for (const state of CIRCUIT_STATES) this.set({ subgraph, state }, state === current ? 1 : 0);
          }
        },
      });
    },
  };
}
export type SubgraphFaultMetrics = ReturnType<typeof subgraphFaultMetrics>;
