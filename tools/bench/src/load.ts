import type { IncomingHttpHeaders } from 'node:http';
import autocannon from 'autocannon';
import type { LoadRequest } from './scenarios.ts';

export interface LoadResult {
  /** Answered within the window. */
  requests: number;
  /** Sent within the window, answered or not: what the gateway worked on. */
  sent: number;
  requestsPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  /** Transport errors, timeouts, non-200 answers, GraphQL errors and wrong answers. */
  errors: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  durationSeconds: number;
  requests: LoadRequest[];
  /** Per request index: the exact body to expect, or undefined to check only "200, no errors". */
  exactBodies: Array<string | undefined>;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Loads the gateway with autocannon for a bounded time, checking every answer. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let wrong = 0;
  const target = new URL(options.url);
  let finish!: (result: autocannon.Result) => void;
  let fail!: (error: Error) => void;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const instance = autocannon({
    url: target.origin,
    connections: options.connections,
    duration: options.durationSeconds,
    timeout: 10,
    requests: options.requests.map((request, index) => ({
      method: request.method,
      path: target.pathname,
      headers: request.headers,
      body: request.body,
      onResponse: (status: number, body: string, _context: object, headers: IncomingHttpHeaders | undefined) => {
        const exact = options.exactBodies[index];
        // A compressed answer was checked decompressed before the load; here only its status is.
        if (headers?.['content-encoding']) {
          if (status !== 200) wrong += 1;
        } else if (status !== 200 || (exact !== undefined ? body !== exact : body.includes('"errors":'))) {
          wrong += 1;
        }
      },
    })),
  }, (error, result) => (error ? fail(error) : finish(result)));
  // autocannon reports p90 and p97.5, not p95: keep every latency and take percentiles exactly.
  instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
    latencies.push(responseTime);
  });
  const result = await done;
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: result.requests.total,
    sent: result.requests.sent,
    requestsPerSecond: result.requests.total / (result.duration || options.durationSeconds),
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    errors: wrong + result.errors + result.timeouts,
  };
}
