import pg from 'pg';
import type { DatabaseHealthLike, Logger } from '@shop/observability';
import { classifyDatabaseError, type DatabaseFault, type DatabaseFaultCode } from './database-errors.ts';

/**
 * Whether a subgraph's database is usable, for /ready and `db_up`: a probe (`SELECT 1`) every
 * DATABASE_PROBE_INTERVAL_MS decides, and a request that fails with a connection-class error
 * (refused, lost, no connection in time) turns it down at once rather than at the next probe.
 * Only a probe that succeeds, and started after the latest turn to down, turns it up again. The probe has a connection of its own, so a
 * saturated request pool does not read as an outage and its statements are not counted as the
 * requests'. Each outage is logged twice (down, then available again), never per request.
 */
export interface DatabaseHealth extends DatabaseHealthLike {
  /** Why the database is not usable now ("database unavailable: connection_refused"), or null when it is. */
  notReadyReason(): string | null;
  /** Reports an error the request pool met (a statement, a connection attempt, an idle connection). */
  observe(error: unknown): DatabaseFault | null;
  /** Runs a probe now; resolves when it has answered (tests, and the first check at start). */
  probe(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseHealthOptions {
  /** The subgraph, for log lines. */
  service: string;
  url: string;
  logger?: Logger | undefined;
  probeIntervalMs: number;
  /** A probe not answered within this (connection included) counts as the database being down. */
  connectTimeoutMs: number;
}

const NO_LOGGER = { warn: () => {}, info: () => {} };

export function createDatabaseHealth(options: DatabaseHealthOptions): DatabaseHealth {
  const { service } = options;
  const logger = options.logger ?? NO_LOGGER;
  const probePool = new pg.Pool({
    connectionString: options.url,
    max: 1,
    connectionTimeoutMillis: options.connectTimeoutMs,
    // SELECT 1 takes milliseconds: one not answered within the connect timeout finds a hung server
    // (its own idle connection stays open) as soon as a new connection would.
    query_timeout: options.connectTimeoutMs,
    // An idle probe connection that the server closed is replaced at the next probe.
    idleTimeoutMillis: 0,
    allowExitOnIdle: true,
  });
  // A restarting server closes the idle probe connection: that is news (down now), not a crash.
  probePool.on('error', (error) => markDown(classifyDatabaseError(error)?.reason ?? 'probe_failed', error));

  /** `starting` until the first probe answers: not ready, but no outage to report yet. */
  let state: 'starting' | 'up' | 'down' = 'starting';
  let reason = 'not probed yet';
  let outage = { since: 0, failed: 0 };
  /** Counts the turns to down: a probe that started before the latest one says nothing about now. */
  let outages = 0;
  let closed = false;
  let probing: Promise<void> | null = null;
  const errors = new Map<string, { code: DatabaseFaultCode; reason: string; count: number }>();
  const listeners: Array<(code: DatabaseFaultCode, reason: string) => void> = [];

  const markUp = () => {
    if (closed || state === 'up') return;
    if (state === 'down') {
      logger.info({ subgraph: service, outageMs: Date.now() - outage.since, failedCalls: outage.failed }, `The ${service} database is available again`);
    }
    state = 'up';
    reason = '';
  };

  const markDown = (why: string, error: unknown) => {
    if (closed) return;
    reason = why;
    if (state === 'down') return;
    state = 'down';
    outages += 1;
    outage = { since: Date.now(), failed: 0 };
    // The driver's message names the server's address: it goes to the log, never to a client.
    logger.warn({ subgraph: service, reason: why, err: error }, `The ${service} database is unavailable (${why}): requests that need it fail with DATABASE_UNAVAILABLE or DATABASE_TIMEOUT, and /ready answers 503, until it is back`);
  };

  const probe = (): Promise<void> => {
    if (!probing) {
      const outagesAtStart = outages;
      probing = probePool
        .query('SELECT 1')
        .then(
          // A probe answered by the server as it went down (sent before a request met the outage) is stale: the next one decides.
          () => (outages === outagesAtStart ? markUp() : undefined),
          (error: unknown) => markDown(classifyDatabaseError(error)?.reason ?? 'probe_failed', error),
        )
        .finally(() => (probing = null));
    }
    return probing;
  };
  const timer = setInterval(() => void probe(), options.probeIntervalMs);
  timer.unref();
  void probe();

  return {
    isUp: () => state === 'up',
    notReadyReason: () => (state === 'up' ? null : `database unavailable: ${reason}`),
    errors: () => [...errors.values()],
    onError: (listener) => void listeners.push(listener),
    observe(error) {
      const fault = classifyDatabaseError(error);
      if (!fault) return null;
      const key = `${fault.code}:${fault.reason}`;
      const entry = errors.get(key) ?? { code: fault.code, reason: fault.reason, count: 0 };
      entry.count += 1;
      errors.set(key, entry);
      for (const listener of listeners) listener(fault.code, fault.reason);
      if (fault.code === 'DATABASE_UNAVAILABLE') markDown(fault.reason, error);
      if (state === 'down') outage.failed += 1;
      return fault;
    },
    probe,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await probing?.catch(() => {});
      await probePool.end();
    },
  };
}
