import { Pool } from 'undici';
import type { SubgraphName } from '@shop/db';
import { sleep } from './exec.ts';
import type { GraphQLBody, Operation, PreparedRequest } from './operations.ts';

/** One request of the load, as its client finally saw it (after the retries a client makes). */
export interface Sample {
  op: string;
  /** Epoch milliseconds: when the client first sent it, and when it had the final answer. */
  start: number;
  end: number;
  /** HTTP status of the final answer; null when there was none (a network error). */
  status: number | null;
  /** `extensions.code` of every error in the answer, or the network error's code; not the operation's answerCodes. */
  codes: string[];
  /** Codes of the answer that are the operation's whole answer (placeOrder's OUT_OF_STOCK), not failures. */
  answerCodes?: string[];
  /** Parts (subgraphs) whose fields are missing from the answer: all of them without an answer. */
  missing: SubgraphName[];
  /** Connection attempts refused before the answer (nothing listening: retried after a pause). */
  refused: number;
  /** Connections closed before an answer arrived (retried at once, as HTTP clients do). */
  closed: number;
  /** An APQ hash the gateway did not know, so the full query followed. */
  apqMiss: boolean;
  /** An error message naming a network address or a socket error: internals leaked to the caller. */
  leak: boolean;
  /** The first error's message (or the network error's), to show what failed. */
  message?: string;
}

export interface LoadOptions {
  url: string;
  operations: Operation[];
  /** Requests in flight at most; a request due while this many wait is not sent and counts as failed (CLIENT_BACKLOG_FULL). */
  concurrency: number;
  /** Requests started per second at most, over all workers. */
  ratePerSecond: number;
  /** The load stops by itself after this many requests. */
  maxRequests: number;
  /** A client gives up on an answer after this long (above the gateway's own request deadline). */
  requestTimeoutMs: number;
  /** How long a client keeps retrying refused connections (the gateway restarting) before it fails the request. */
  retryRefusedForMs: number;
}

export interface Load {
  samples: Sample[];
  /** Order idempotency keys the gateway acknowledged (placeOrder answered with an order id). */
  acknowledgedOrders: Set<string>;
  /** Every idempotency key sent. */
  sentOrders: Set<string>;
  stop(): Promise<void>;
}

const REFUSED = new Set(['ECONNREFUSED']);
/** The connection closed under a request before any answer: HTTP clients retry these (idempotency keys make it safe for placeOrder). */
const CLOSED = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED']);
const LEAK = /\b(?:\d{1,3}\.){3}\d{1,3}:\d+|ECONNREFUSED|ECONNRESET|socket hang up|Headers Timeout Error|other side closed/i;

/**
 * An open-loop load: the operations of the mix in turn, `ratePerSecond` of them started each
 * second. Every answer's body is read and classified (a load generator that counts statuses
 * cannot: a 200 may carry errors and lack fields), and network errors are told apart (a refused
 * connection from one closed under a request).
 */
export function startLoad(options: LoadOptions): Load {
  const origin = new URL(options.url);
  const pool = new Pool(origin.origin, {
    connections: options.concurrency,
    headersTimeout: options.requestTimeoutMs,
    bodyTimeout: options.requestTimeoutMs,
  });
  const samples: Sample[] = [];
  const acknowledgedOrders = new Set<string>();
  const sentOrders = new Set<string>();
  const interval = 1000 / options.ratePerSecond;
  const inFlight = new Set<Promise<void>>();
  let started = 0;
  let stopping = false;

  const send = async (request: PreparedRequest, body: string, sample: Sample): Promise<{ status: number; answer: GraphQLBody | undefined } | { error: string }> => {
    let closedRetries = 0;
    for (;;) {
      try {
        const response = await pool.request({ path: origin.pathname, method: 'POST', headers: request.headers, body });
        const text = await response.body.text();
        let answer: GraphQLBody | undefined;
        try {
          answer = JSON.parse(text) as GraphQLBody;
        } catch {
          answer = undefined;
        }
        return { status: response.statusCode, answer };
      } catch (error) {
        const code = errorCode(error);
        if (REFUSED.has(code) && !stopping && Date.now() - sample.start < options.retryRefusedForMs) {
          sample.refused += 1;
          // Backing off as clients do: 100 ms, doubling up to 1 s.
          await sleep(Math.min(1_000, 100 * 2 ** Math.min(sample.refused - 1, 4)));
          continue;
        }
        if (CLOSED.has(code) && closedRetries < 3 && !stopping) {
          closedRetries += 1;
          sample.closed += 1;
          continue;
        }
        return { error: code };
      }
    }
  };

  const one = async (operation: Operation) => {
    const request = operation.prepare();
    if (request.idempotencyKey) sentOrders.add(request.idempotencyKey);
    const sample: Sample = { op: operation.name, start: Date.now(), end: 0, status: null, codes: [], missing: [], refused: 0, closed: 0, apqMiss: false, leak: false };
    let result = await send(request, request.body, sample);
    if ('status' in result && result.answer && request.followUp) {
      const next = request.followUp(result.answer);
      if (next) {
        sample.apqMiss = true;
        result = await send(request, next, sample);
      }
    }
    sample.end = Date.now();
    if ('error' in result) {
      sample.codes = [result.error];
      sample.message = result.error;
      sample.missing = [...operation.parts];
    } else {
      sample.status = result.status;
      const codeOf = (e: { extensions?: Record<string, unknown> }) => (typeof e.extensions?.code === 'string' ? e.extensions.code : 'NO_CODE');
      const all = result.answer?.errors ?? [];
      const errors = all.filter((e) => !operation.answerCodes?.has(codeOf(e)));
      const answerCodes = all.filter((e) => operation.answerCodes?.has(codeOf(e))).map(codeOf);
      if (answerCodes.length > 0) sample.answerCodes = answerCodes;
      sample.codes = errors.map(codeOf);
      sample.leak = all.some((e) => LEAK.test(e.message ?? ''));
      if (errors[0]) sample.message = `${errors[0].message ?? ''}${errors[0].path ? ` at ${errors[0].path.join('.')}` : ''}`;
      else if (result.status !== 200) sample.message = `HTTP ${result.status}`;
      sample.missing = result.answer ? [...operation.missing(result.answer)] : [...operation.parts];
      const key = result.answer && operation.acknowledged?.(result.answer, request);
      if (key) acknowledgedOrders.add(key);
    }
    samples.push(sample);
    operation.observe?.(request, 'error' in result ? undefined : result.answer, sample);
  };

  // Open loop: requests start on a schedule whether or not earlier ones were answered, so a hung
  // part shows as what it does to every caller arriving meanwhile, not as a load that politely waits.
  const dispatcher = (async () => {
    let next = Date.now();
    while (!stopping && started < options.maxRequests) {
      next += interval;
      // After a stall of this process, carry on at the rate instead of sending the backlog at once.
      if (next < Date.now() - 1_000) next = Date.now();
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      if (stopping) break;
      const operation = options.operations[started % options.operations.length]!;
      started += 1;
      if (inFlight.size >= options.concurrency) {
        // Every client is waiting: this request is not sent, and counts as failed.
        const now = Date.now();
        samples.push({ op: operation.name, start: now, end: now, status: null, codes: ['CLIENT_BACKLOG_FULL'], missing: [...operation.parts], refused: 0, closed: 0, apqMiss: false, leak: false, message: `${options.concurrency} requests already in flight` });
        continue;
      }
      const request = one(operation).finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
  })();

  return {
    samples,
    acknowledgedOrders,
    sentOrders,
    async stop() {
      stopping = true;
      await dispatcher;
      await Promise.all(inFlight);
      await pool.close();
    },
  };
}

function errorCode(error: unknown): string {
  const seen = new Set<unknown>();
  let current: unknown = error;
  // undici wraps the socket's error (ECONNREFUSED) in its own at times: the innermost code says what happened.
  let code = 'NETWORK_ERROR';
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const candidate = (current as { code?: unknown }).code;
    if (typeof candidate === 'string') code = candidate;
    current = (current as { cause?: unknown }).cause;
  }
  return code;
}
