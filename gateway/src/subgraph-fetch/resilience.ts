import type { FetcherResponse } from '@apollo/utils.fetcher';
import {
  BrokenCircuitError,
  circuitBreaker,
  CircuitState,
  CountBreaker,
  decorrelatedJitterGenerator,
  ExponentialBackoff,
  handleWhen,
  timeout,
  TimeoutStrategy,
  type CircuitBreakerPolicy,
  type IBackoff,
  type TimeoutPolicy,
} from 'cockatiel';
import type { Logger } from '@shop/observability';
import type { SubgraphResilience } from '../config.ts';
import { faultOf, SubgraphFault, type FaultReason } from './faults.ts';
import type { FetcherLayer } from './fetcher.ts';
import { RetryBudget } from './retry-budget.ts';
import { AUDIENCE_HEADER } from './signing.ts';

/**
 * What the data source tells this layer about a fetch beside its subgraph: the kind of its
 * operation (`query` or `mutation`). A header, like the audience, so deduplication keys on it;
 * removed here, never sent. A fetch without it is treated as a mutation: never retried.
 */
export const OPERATION_KIND_HEADER = 'x-shop-internal-operation-kind';

/** Statuses that say "not now" (a proxy or the subgraph shedding load): a query may be sent again. */
const RETRY_STATUSES = new Set([502, 503, 504]);

export type CircuitStateName = 'closed' | 'open' | 'half_open';

/** What this layer reports; the gateway's metrics (telemetry/subgraph-fault-metrics.ts) implement it. */
export interface ResilienceEvents {
  retried(subgraph: string, outcome: 'ok' | 'failed'): void;
  retryBudgetExhausted(subgraph: string): void;
}

export interface ResilientFetches {
  layer: FetcherLayer;
  /** Each subgraph called so far and the state of its circuit, read at each metrics scrape. */
  circuits(): Array<[subgraph: string, state: CircuitStateName]>;
  /** Whether the subgraph's circuit is closed (a subgraph not called yet counts as closed). */
  isClosed(subgraph: string): boolean;
  /** Stops probing and aborts any probe in flight (shutdown). */
  close(): void;
}

/** What a probe asks: the smallest operation every GraphQL server answers, named for the subgraph's logs and traces. */
const PROBE_BODY = JSON.stringify({ query: 'query SubgraphProbe { __typename }', operationName: 'SubgraphProbe' });

/**
 * Per-subgraph resilience of every subgraph call, between deduplication (so the callers sharing
 * a fetch share its retries and its failure) and signing (so each attempt carries a fresh token):
 * - a timeout per attempt that aborts the HTTP request (undici honours the signal);
 * - a circuit breaker (cockatiel) per subgraph over the last calls: while it is not closed, every
 *   fetch fails at once instead of waiting on a subgraph that is down or hung. The gateway probes
 *   the subgraph itself (`{ __typename }`, every SUBGRAPH_BREAKER_HALF_OPEN_MS) and a successful
 *   probe closes the circuit: no caller's request is ever the probe, so none waits out a hung
 *   subgraph's timeout once the hang is known, and recovery needs no traffic;
 * - retries of query fetches only, on connection errors and 502/503/504, with jittered
 *   exponential backoff, within a per-subgraph retry budget. Timeouts are not retried: the
 *   attempt already spent the caller's time and the subgraph's work, and a second one would
 *   double the load on a subgraph that is already slow.
 * Failures leave as a SubgraphFault, which the data source turns into errors at the fetch's fields.
 */
export function resilientFetches(options: { settingsOf: (subgraph: string) => SubgraphResilience; logger: Logger; events: ResilienceEvents }): ResilientFetches {
  const policies = new Map<string, SubgraphPolicy>();
  const policyOf = (subgraph: string) => {
    let policy = policies.get(subgraph);
    if (!policy) {
      policy = new SubgraphPolicy(subgraph, options.settingsOf(subgraph), options.logger, options.events);
      policies.set(subgraph, policy);
    }
    return policy;
  };
  return {
    layer: (next) => async (url, init) => {
      const headers: Record<string, string> = { ...init?.headers };
      const subgraph = headers[AUDIENCE_HEADER];
      // Signing refuses a fetch without an audience; nothing to be resilient about here.
      if (!subgraph) return next(url, init);
      const isQuery = headers[OPERATION_KIND_HEADER] === 'query';
      delete headers[OPERATION_KIND_HEADER];
      const policy = policyOf(subgraph);
      // The probe goes where the last fetch went, through the same signing and transport.
      policy.probeWith((signal) =>
        next(url, { method: 'POST', headers: { 'content-type': 'application/json', [AUDIENCE_HEADER]: subgraph }, body: PROBE_BODY, signal }),
      );
      return policy.fetch((signal) => next(url, { ...init, headers, signal }), isQuery);
    },
    circuits: () => [...policies].map(([subgraph, policy]) => [subgraph, policy.state()]),
    isClosed: (subgraph) => (policies.get(subgraph)?.state() ?? 'closed') === 'closed',
    close: () => {
      for (const policy of policies.values()) policy.close();
    },
  };
}

class SubgraphPolicy {
  private readonly breaker: CircuitBreakerPolicy;
  private readonly timeout: TimeoutPolicy;
  private readonly budget: RetryBudget;
  private readonly backoff: ExponentialBackoff<[number, number]>;
  private probe: ((signal: AbortSignal) => Promise<FetcherResponse>) | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private readonly probing = new AbortController();

  constructor(
    private readonly subgraph: string,
    private readonly settings: SubgraphResilience,
    logger: Logger,
    private readonly events: ResilienceEvents,
  ) {
    this.breaker = circuitBreaker(
      handleWhen((error) => error instanceof SubgraphFault).orWhenResult((response) => (response as FetcherResponse).status >= 500),
      {
        halfOpenAfter: settings.breakerHalfOpenMs,
        breaker: new CountBreaker({ threshold: settings.breakerThreshold, size: settings.breakerWindow, minimumNumberOfCalls: settings.breakerMinCalls }),
      },
    );
    // Logged once per change, not per request: an operator reads "opened" and "closed" as an incident's bounds.
    // A failed probe opens the circuit again: logged only when it opened from closed.
    let open = false;
    this.breaker.onBreak(() => {
      if (!open) logger.warn({ subgraph }, `circuit to subgraph ${subgraph} opened: its fields fail fast until a probe succeeds`);
      open = true;
      this.scheduleProbe();
    });
    this.breaker.onReset(() => {
      open = false;
      clearTimeout(this.probeTimer);
      logger.info({ subgraph }, `circuit to subgraph ${subgraph} closed: it answers again`);
    });
    // Not aborted on return: the transport has read the whole body by then, and an abort would only
    // build a DOMException (with its stack) per request for nothing (0.6% of the CPU under the bench's load).
    this.timeout = timeout(settings.timeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
    this.budget = new RetryBudget({ ratio: settings.retryBudgetRatio, min: settings.retryBudgetMin });
    this.backoff = new ExponentialBackoff({ initialDelay: settings.retryDelayMs, maxDelay: settings.retryMaxDelayMs, generator: decorrelatedJitterGenerator });
  }

  state(): CircuitStateName {
    switch (this.breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half_open';
      default:
        return 'open';
    }
  }

  probeWith(probe: (signal: AbortSignal) => Promise<FetcherResponse>): void {
    this.probe = probe;
  }

  close(): void {
    clearTimeout(this.probeTimer);
    this.probing.abort();
  }

  /** One probe once the half-open delay is over; its failure opens the circuit again, which schedules the next. */
  private scheduleProbe(): void {
    clearTimeout(this.probeTimer);
    if (this.probing.signal.aborted) return;
    this.probeTimer = setTimeout(() => void this.runProbe(), this.settings.breakerHalfOpenMs);
    this.probeTimer.unref();
  }

  private async runProbe(): Promise<void> {
    const probe = this.probe;
    if (!probe || this.breaker.state !== CircuitState.Open) return;
    try {
      await this.breaker.execute(() => this.timeout.execute(({ signal }) => probe(AbortSignal.any([signal, this.probing.signal]))).catch((error: unknown) => {
        throw faultOf(error, this.subgraph) ?? error;
      }));
    } catch (error) {
      // Too early (the delay is measured from the break; timers may fire a little ahead): try again.
      if (error instanceof BrokenCircuitError) this.scheduleProbe();
      // Otherwise the failure already reopened the circuit, and that scheduled the next probe.
    }
  }

  async fetch(send: (signal: AbortSignal) => Promise<FetcherResponse>, isQuery: boolean): Promise<FetcherResponse> {
    if (isQuery) this.budget.recordFetch();
    let delay: IBackoff<unknown> | undefined;
    for (let retries = 0; ; retries++) {
      let failure: { response: FetcherResponse } | { fault: SubgraphFault };
      try {
        const response = await this.attempt(send);
        if (!isQuery || !RETRY_STATUSES.has(response.status)) {
          if (retries > 0) this.events.retried(this.subgraph, 'ok');
          return response;
        }
        failure = { response };
      } catch (error) {
        if (retries > 0) this.events.retried(this.subgraph, 'failed');
        if (!isQuery || !(error instanceof SubgraphFault) || !RETRYABLE.has(error.reason)) throw error;
        failure = { fault: error };
      }
      if (retries > 0 && 'response' in failure) this.events.retried(this.subgraph, 'failed');
      const giveUp = () => {
        if ('fault' in failure) throw failure.fault;
        return failure.response;
      };
      if (retries >= this.settings.retries) return giveUp();
      if (!this.budget.tryRetry()) {
        this.events.retryBudgetExhausted(this.subgraph);
        return giveUp();
      }
      delay = delay ? delay.next(undefined) : this.backoff.next();
      await new Promise((resolve) => setTimeout(resolve, delay!.duration));
    }
  }

  /** One HTTP call, through the breaker and the timeout; raw transport errors leave as faults. */
  private async attempt(send: (signal: AbortSignal) => Promise<FetcherResponse>): Promise<FetcherResponse> {
    // Open or half-open: the gateway's own probe finds out when the subgraph is back (scheduleProbe);
    // a caller's request would only wait on it (cockatiel holds the calls behind a half-open test).
    if (this.breaker.state !== CircuitState.Closed) throw new SubgraphFault(this.subgraph, 'circuit_open', { cause: new BrokenCircuitError() });
    try {
      return await this.breaker.execute(async () => {
        try {
          return await this.timeout.execute(({ signal }) => send(signal));
        } catch (error) {
          // As a fault, so that the breaker counts it (a refused request or a bug in a layer is not an outage).
          throw faultOf(error, this.subgraph) ?? error;
        }
      });
    } catch (error) {
      throw faultOf(error, this.subgraph) ?? error;
    }
  }
}

/** Faults after which the query was not answered and another attempt may be: not timeouts (see above). */
const RETRYABLE = new Set<FaultReason>(['connection_failed']);
