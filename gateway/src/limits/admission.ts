import { getHeapStatistics } from 'node:v8';
import { HeaderMap, type HTTPGraphQLResponse } from '@apollo/server';
import { trace } from '@opentelemetry/api';
import type { Stage } from '../exchange.ts';

export type RejectReason = 'queue_full' | 'queue_timeout';

export interface AdmissionOptions {
  /** Executions (HTTP GraphQL requests that reach Apollo) running at once. */
  maxConcurrent: number;
  /** Requests waiting for a slot; beyond that a request is refused at once. */
  maxQueued: number;
  /** Longest wait for a slot before the request is refused. */
  queueTimeoutMs: number;
  /**
   * Share of V8's heap limit in use above which no further execution starts while another one
   * runs (1 turns the check off). Executions then finish, their memory is collected, and the
   * waiting ones start: a burst of unusually big answers slows down instead of exhausting the heap.
   */
  heapHighWatermark: number;
  /** Share of the heap limit in use now; V8's own figures unless a test substitutes them. */
  heapUsage?: () => number;
  onReject?(reason: RejectReason): void;
}

export interface Admission extends Stage {
  executing(): number;
  queued(): number;
  readonly maxConcurrent: number;
}

interface Waiter {
  admit(admitted: boolean): void;
  timer: NodeJS.Timeout;
}

function v8HeapUsage(): number {
  const { used_heap_size, heap_size_limit } = getHeapStatistics();
  return used_heap_size / heap_size_limit;
}

/**
 * Bounds the operations executing at once and queues the rest in arrival order. Each execution
 * holds its subgraph answers and its result tree in memory until it is sent, so without a bound a
 * burst of heavy queries grows the heap with the burst and every one of them slows down together. With a bound, memory follows the bound,
 * excess requests wait their turn, and past the queue's size or wait they get 503 SERVER_BUSY with
 * Retry-After before anything ran: a refused mutation did not happen and can be retried as is.
 *
 * The last stage before Apollo: requests answered by the response cache or sharing an
 * identical request's execution (inbound deduplication) never take a slot.
 */
export function admissionControl(options: AdmissionOptions): Admission {
  const heapUsage = options.heapUsage ?? v8HeapUsage;
  let executing = 0;
  // A Set keeps arrival order and drops a timed-out waiter in O(1).
  const waiters = new Set<Waiter>();

  // One execution may always run, so a full heap delays work but never stops it.
  const canStart = () =>
    executing === 0 || (executing < options.maxConcurrent && (options.heapHighWatermark >= 1 || heapUsage() < options.heapHighWatermark));

  const waitForSlot = () =>
    new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        admit: resolve,
        timer: setTimeout(() => {
          waiters.delete(waiter);
          resolve(false);
        }, options.queueTimeoutMs),
      };
      waiters.add(waiter);
    });

  // Slots go to the waiters in arrival order; a newcomer never overtakes them (see the stage).
  const release = () => {
    executing -= 1;
    for (const waiter of waiters) {
      if (!canStart()) break;
      waiters.delete(waiter);
      clearTimeout(waiter.timer);
      executing += 1;
      waiter.admit(true);
    }
  };

  const busy = (reason: RejectReason): HTTPGraphQLResponse => {
    options.onReject?.(reason);
    const message =
      reason === 'queue_full'
        ? `The gateway is at capacity: ${executing} operations are executing and ${waiters.size} are waiting. Nothing was executed; retry after a second.`
        : `The gateway is at capacity: this request waited ${options.queueTimeoutMs} ms for an execution slot. Nothing was executed; retry after a second.`;
    return {
      status: 503,
      headers: new HeaderMap([
        ['content-type', 'application/json; charset=utf-8'],
        ['retry-after', '1'],
      ]),
      body: { kind: 'complete', string: JSON.stringify({ errors: [{ message, extensions: { code: 'SERVER_BUSY' } }] }) },
    };
  };

  const stage: Stage = async (_exchange, next) => {
    if (waiters.size === 0 && canStart()) {
      executing += 1;
    } else {
      if (waiters.size >= options.maxQueued) return busy('queue_full');
      const queuedAt = performance.now();
      const admitted = await waitForSlot();
      // The wait shows on the request's span in Jaeger: latency that no subgraph call explains.
      trace.getActiveSpan()?.setAttribute('gateway.admission.wait_ms', Math.round(performance.now() - queuedAt));
      if (!admitted) return busy('queue_timeout');
    }
    try {
      return await next();
    } finally {
      release();
    }
  };
  return Object.assign(stage, {
    executing: () => executing,
    queued: () => waiters.size,
    maxConcurrent: options.maxConcurrent,
  });
}
