import { Redis } from 'ioredis';
import type { Logger, RedisHealthLike } from '@shop/observability';
import { parseRedisUrl } from './redis-url.ts';

/**
 * Every Redis use in this project is an optimisation or a shared view (APQ, response cache, rate
 * limits, persisted documents, replay nonces), never the only way to answer a request. So each
 * connection is opened to fail fast rather than to wait: no offline queue, a bounded time per
 * command and per connection attempt, reconnection with backoff for ever. On top, it tracks
 * whether Redis is usable: once the connection drops or a command fails (or times out, and a PING
 * confirms it), callers are answered by their fallback at once (a hung Redis costs a request one
 * command timeout at most, while it is found out) until a probe (PING) is answered again. Each
 * outage is logged twice (down, then recovered), never per request.
 */
export interface RedisConnectionOptions {
  /** What this connection serves, for logs and the `component` metric label: `apq`, `rate_limit`, ... */
  component: string;
  logger?: Logger | undefined;
  /** What callers get while Redis is unavailable, for the outage's log line, e.g. "answers a miss". */
  degradesTo: string;
  /** The longest a command may take before it counts as failed. */
  commandTimeoutMs?: number | undefined;
  /** The longest a connection attempt may take. */
  connectTimeoutMs?: number | undefined;
  /** How often a connection that is down is probed. */
  probeIntervalMs?: number | undefined;
  /** ioredis' auto-pipelining: commands of one event-loop tick share a round trip. */
  autoPipelining?: boolean | undefined;
}

export const REDIS_DEFAULTS = { commandTimeoutMs: 500, connectTimeoutMs: 2000, probeIntervalMs: 1000 } as const;

/** What metrics read of a connection (see @shop/observability's observeRedis). */
export type RedisHealth = RedisHealthLike;

export interface RedisConnection extends RedisHealth {
  readonly client: Redis;
  /**
   * Runs `op` while Redis is usable; otherwise, or when it fails or times out, answers
   * `fallback()` and counts a degraded operation. For the work that has a fallback.
   */
  attempt<T>(op: (client: Redis) => Promise<T>, fallback: () => T | Promise<T>): Promise<T>;
  /**
   * Runs `op` once connected (waiting at most the connect timeout for a first connection) and
   * throws what it throws, marking the connection down. For the work without a fallback: a
   * command-line tool's write, a reload that keeps the previous data when it fails.
   */
  run<T>(op: (client: Redis) => Promise<T>): Promise<T>;
  /** Resolves once connected, or after the connect timeout (then isUp() is false). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** Thrown by `run` when Redis cannot be reached in time. */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

/** Exponential backoff, capped at 2 s, with jitter so replicas do not reconnect in step. */
export function reconnectDelay(attempt: number): number {
  const ceiling = Math.min(2000, 50 * 2 ** Math.min(attempt, 6));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/** ioredis' message for a command past `commandTimeout`. */
const TIMED_OUT = 'Command timed out';

const NO_LOGGER = { warn: () => {}, info: () => {}, debug: () => {} };

export function openRedis(url: string, options: RedisConnectionOptions): RedisConnection {
  const { component, degradesTo } = options;
  const logger = options.logger ?? NO_LOGGER;
  const commandTimeoutMs = options.commandTimeoutMs ?? REDIS_DEFAULTS.commandTimeoutMs;
  const connectTimeoutMs = options.connectTimeoutMs ?? REDIS_DEFAULTS.connectTimeoutMs;
  const probeIntervalMs = options.probeIntervalMs ?? REDIS_DEFAULTS.probeIntervalMs;
  const target = parseRedisUrl(url);
  const connection = {
    // A command sent while disconnected fails at once instead of waiting in an unbounded queue.
    enableOfflineQueue: false,
    commandTimeout: commandTimeoutMs,
    connectTimeout: connectTimeoutMs,
    maxRetriesPerRequest: 1,
    retryStrategy: reconnectDelay,
    // Commands cut off by a lost connection were already answered by their fallback (or timed
    // out); sending them again later would count a rate-limit hit twice.
    autoResendUnfulfilledCommands: false,
    // ioredis' own re-SUBSCRIBE after a reconnect leaves its promise unhandled: one that timed out
    // (a Redis still slow after a restart) would be an unhandled rejection, which ends a Node
    // process. The subscriber (persisted/redis-store.ts) subscribes again itself on 'ready'.
    autoResubscribe: false,
    enableAutoPipelining: options.autoPipelining ?? false,
  };
  // A Sentinel-managed Redis (redis-sentinel://): ioredis asks the Sentinels for the master and
  // follows it after a failover; the same bounds apply to every connection.
  const client = target.kind === 'single' ? new Redis(url, connection) : new Redis({ ...target.options, ...connection });

  /** `starting` until the first connection: not usable, but no outage to report yet. */
  let state: 'starting' | 'up' | 'down' = 'starting';
  let closed = false;
  let outage = { since: 0, degraded: 0 };
  let degraded = 0;
  let probe: NodeJS.Timeout | undefined;
  let probing = false;
  const listeners: Array<() => void> = [];

  const markUp = () => {
    if (closed || state === 'up') return;
    if (state === 'down') {
      logger.info(
        { component, outageMs: Date.now() - outage.since, degradedOperations: outage.degraded },
        `Redis is available again: ${component} uses it again`,
      );
    }
    state = 'up';
    clearInterval(probe);
    probe = undefined;
  };

  const markDown = (reason: unknown) => {
    if (closed || state === 'down') return;
    state = 'down';
    outage = { since: Date.now(), degraded: 0 };
    logger.warn({ component, err: reason }, `Redis is unavailable: ${component} ${degradesTo} until it is back`);
    probe ??= setInterval(sendProbe, probeIntervalMs);
    probe.unref();
  };

  // A command that timed out may only have been late: a busy event loop fires its timer before
  // reading the answer that already came. A PING sent now tells: answered in time, Redis is fine;
  // not, it is hung (and the requests meanwhile each waited one command timeout at most).
  let confirming = false;
  const suspect = (reason: unknown) => {
    if (closed || state !== 'up' || confirming) return;
    confirming = true;
    client
      .ping()
      .then(
        () => {},
        () => markDown(reason),
      )
      .finally(() => (confirming = false));
  };
  const failed = (error: unknown) => (error instanceof Error && error.message === TIMED_OUT ? suspect(error) : markDown(error));

  // While down with the connection open (a hung server answers nothing but keeps the socket):
  // only a command that is answered tells it is back.
  const sendProbe = () => {
    if (closed || probing || state !== 'down' || client.status !== 'ready') return;
    probing = true;
    client
      .ping()
      .then(markUp, () => {})
      .finally(() => (probing = false));
  };

  // A fresh connection has passed ioredis' ready check (INFO): Redis answers.
  client.on('ready', markUp);
  client.on('close', () => markDown(new Error('connection closed')));
  // Emitted for every failed reconnection attempt too: the outage is logged once, by markDown.
  client.on('error', (error: Error) => markDown(error));

  const degrade = <T>(fallback: () => T | Promise<T>) => {
    degraded += 1;
    outage.degraded += 1;
    for (const listener of listeners) listener();
    return fallback();
  };

  // One wait shared by every caller, so a burst of callers adds one listener, not one each.
  let waiting: Promise<void> | null = null;
  const connected = (): Promise<void> => {
    if (client.status === 'ready') return Promise.resolve();
    waiting ??= new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.off('ready', onReady);
        reject(new RedisUnavailableError(`Redis at ${hostOf(url)} is unreachable (no connection within ${connectTimeoutMs} ms).`));
      }, connectTimeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      client.once('ready', onReady);
    }).finally(() => (waiting = null));
    return waiting;
  };

  return {
    component,
    client,
    isUp: () => state === 'up' && client.status === 'ready',
    degradedOperations: () => degraded,
    onDegraded: (listener) => void listeners.push(listener),
    async attempt(op, fallback) {
      if (state !== 'up' || client.status !== 'ready') return degrade(fallback);
      try {
        return await op(client);
      } catch (error) {
        failed(error);
        return degrade(fallback);
      }
    },
    async run(op) {
      await connected();
      try {
        return await op(client);
      } catch (error) {
        failed(error);
        throw error;
      }
    },
    settled: () => connected().catch(() => {}),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(probe);
      // QUIT lets Redis answer what was already sent, but only a ready connection can send it, and
      // nothing guarantees it is answered (a hung server, a connection lost and re-established
      // meanwhile): a shutdown waits one command timeout for it at most. disconnect() then stops
      // any reconnection for good, so nothing is left to keep the process up.
      if (client.status === 'ready') {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, commandTimeoutMs)));
        await Promise.race([client.quit().catch(() => {}), timedOut]);
        clearTimeout(timer);
      }
      client.disconnect();
      // disconnect() only half-closes the socket: one whose peer never answers (a hung server)
      // would stay open, holding the event loop. Cut it (a socket already gone is left as it is).
      client.stream?.destroy();
    },
  };
}

/** Where a Redis URL points, without credentials, for messages. */
function hostOf(url: string): string {
  try {
    return parseRedisUrl(url).where;
  } catch {
    return 'the configured URL';
  }
}
