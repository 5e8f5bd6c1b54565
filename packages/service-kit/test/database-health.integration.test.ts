import { createServer, type Server } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, createServiceMetrics } from '@shop/observability';
import { createCountingPool } from '../src/database/counting-pool.ts';
import { classifyDatabaseError, type DatabaseFault } from '../src/database/database-errors.ts';
import { createDatabaseHealth, type DatabaseHealth } from '../src/database/health.ts';

/**
 * The request pool and the health probe against the real server (the test run's, on which
 * nothing is stopped: faults are made per connection, or with a port where nothing listens or
 * a listener that never answers).
 */

const lines: Array<{ msg: string; level: string }> = [];
const logger = createLogger(
  'test',
  'info',
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as { msg: string; level: string });
      done();
    },
  }),
);
const logged = (what: string) => lines.filter((line) => line.msg.includes(`database is ${what}`)).length;

// The test run's server (see @shop/test-support, which this package's tests do not depend on).
const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; !condition(); i++) {
    if (i > 400) throw new Error(`not met: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A loopback port where nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
  lines.length = 0;
});

function health(url: string, probeIntervalMs = 50): DatabaseHealth {
  const created = createDatabaseHealth({ service: 'testdb', url, logger, probeIntervalMs, connectTimeoutMs: 500 });
  cleanups.push(() => created.close());
  return created;
}

function pool(options: { statementTimeoutMs?: number; connectTimeoutMs?: number; url?: string } = {}) {
  const faults: DatabaseFault[] = [];
  const created = createCountingPool(options.url ?? TEST_DATABASE_URL, {
    max: 2,
    connectTimeoutMs: options.connectTimeoutMs ?? 1000,
    statementTimeoutMs: options.statementTimeoutMs,
    onError: (error) => {
      const fault = classifyDatabaseError(error);
      if (fault) faults.push(fault);
    },
  });
  cleanups.push(() => created.pool.end());
  return { ...created, faults };
}

/** A port where a listener accepts connections and never answers: a hung server. */
async function silentServer(): Promise<number> {
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return (server.address() as { port: number }).port;
}

describe('the counted request pool', () => {
  it('reports an idle connection the server closed instead of crashing the process, and serves on a new one', async () => {
    const { pool: requests, faults } = pool();
    const { rows } = await requests.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    // The connection is idle in the pool now; the server ends its session as a restart would (57P01).
    const admin = pool();
    await admin.pool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    await until(() => faults.length > 0, 'the idle connection error reported');
    expect(faults[0]).toEqual({ code: 'DATABASE_UNAVAILABLE', reason: 'connection_lost' });
    expect((await requests.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('has the server cancel a statement past the statement timeout (DATABASE_TIMEOUT), keeping the connection usable', async () => {
    const { pool: requests, faults } = pool({ statementTimeoutMs: 200 });
    await expect(requests.query('SELECT pg_sleep(2)')).rejects.toMatchObject({ code: '57014' });
    expect(faults).toEqual([{ code: 'DATABASE_TIMEOUT', reason: 'statement_timeout' }]);
    expect((await requests.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('gives up on a server that never answers after the connect timeout (DATABASE_UNAVAILABLE), for callbacks and promises alike', async () => {
    const port = await silentServer();
    const { pool: requests, faults } = pool({ url: `postgres://postgres@127.0.0.1:${port}/postgres`, connectTimeoutMs: 200 });
    await expect(requests.query('SELECT 1')).rejects.toThrow(/connection timeout/);
    await expect(requests.connect()).rejects.toThrow(/connection timeout/);
    expect(faults).toEqual([
      { code: 'DATABASE_UNAVAILABLE', reason: 'connect_timeout' },
      { code: 'DATABASE_UNAVAILABLE', reason: 'connect_timeout' },
    ]);
  });
});

describe('the database health', () => {
  it('is up once the probe answers, and stays up through statement timeouts', async () => {
    const probe = health(TEST_DATABASE_URL);
    await probe.probe();
    expect(probe.isUp()).toBe(true);
    expect(probe.notReadyReason()).toBeNull();
    probe.observe(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014', severity: 'ERROR' }));
    expect(probe.isUp()).toBe(true);
    expect(probe.errors()).toEqual([{ code: 'DATABASE_TIMEOUT', reason: 'statement_timeout', count: 1 }]);
    expect(logged('unavailable')).toBe(0);
  });

  it('turns down at once on a request that lost its connection, logs the outage once, and is up again at the next probe', async () => {
    const probe = health(TEST_DATABASE_URL);
    const metrics = createServiceMetrics('testdb');
    metrics.observeDatabase(probe);
    await probe.probe();
    expect(probe.isUp()).toBe(true);
    for (let i = 0; i < 5; i++) probe.observe(new Error('Connection terminated unexpectedly'));
    expect(probe.isUp()).toBe(false);
    expect(probe.notReadyReason()).toBe('database unavailable: connection_lost');
    const scrape = await metrics.registry.metrics();
    expect(scrape).toMatch(/^db_up\{service="testdb"\} 0$/m);
    expect(scrape).toMatch(/^db_errors_total\{code="DATABASE_UNAVAILABLE",reason="connection_lost",service="testdb"\} 5$/m);
    // The database was fine all along: the next probe says so.
    await until(() => probe.isUp(), 'up again after a probe');
    expect(await metrics.registry.metrics()).toMatch(/^db_up\{service="testdb"\} 1$/m);
    expect({ down: logged('unavailable'), up: logged('available again') }).toEqual({ down: 1, up: 1 });
  });

  it('is not turned up again by a probe sent before the outage that answers after it (one outage, logged once each way)', async () => {
    // No periodic probe: this test starts each one.
    const probe = health(TEST_DATABASE_URL, 60_000);
    await probe.probe();
    expect(probe.isUp()).toBe(true);
    // A probe goes out; before its answer arrives, a request meets the outage (as when the server is being stopped).
    const stale = probe.probe();
    probe.observe(new Error('Connection terminated unexpectedly'));
    expect(probe.isUp()).toBe(false);
    await stale;
    expect(probe.isUp()).toBe(false);
    expect(logged('available again')).toBe(0);
    // A probe sent after the outage decides.
    await probe.probe();
    expect(probe.isUp()).toBe(true);
    expect({ down: logged('unavailable'), up: logged('available again') }).toEqual({ down: 1, up: 1 });
  });

  it('is not ready while nothing listens, without logging once per probe', async () => {
    const probe = health(`postgres://postgres@127.0.0.1:${await closedPort()}/postgres`);
    await probe.probe();
    await probe.probe();
    expect(probe.isUp()).toBe(false);
    expect(probe.notReadyReason()).toBe('database unavailable: connection_refused');
    expect(logged('unavailable')).toBe(1);
  });

  it('is not ready when the server accepts connections and never answers', async () => {
    const probe = health(`postgres://postgres@127.0.0.1:${await silentServer()}/postgres`);
    await probe.probe();
    expect(probe.notReadyReason()).toBe('database unavailable: connect_timeout');
  });

  it('stops probing when closed', async () => {
    const probe = health(TEST_DATABASE_URL, 10);
    await probe.probe();
    await probe.close();
    // Closed: a failure no longer changes it, and nothing is left running to keep the process alive.
    probe.observe(new Error('Connection terminated unexpectedly'));
    expect(probe.isUp()).toBe(true);
  });
});

