import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startFaultyProxy, startRedisServer, until, type FaultyProxy, type RedisServer } from '@shop/test-support';
import { startTestStack, type TestStack } from '@shop/test-support/stack';

/**
 * SIGTERM under load, on the real gateway process: readiness turns 503 while everything is still
 * served (SHUTDOWN_DELAY_MS), the "load balancer" below stops sending when it sees that, the
 * listener closes, the requests in flight finish, and the process exits 0 by itself. The clients
 * retry a request once only when a keep-alive connection they reused was closed before an answer
 * (what browsers and HTTP clients do); a refused or reset fresh connection is a failure.
 */

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));

// Products only: the load never waits on the held inventory fetch (nor shares its execution).
const LOAD_QUERY = '{ topProducts(first: 2) { upc name } }';
// Through inventory, whose fetch the proxy holds: in flight when the listener closes.
const HELD_QUERY = '{ topProducts(first: 1) { upc inStock } }';

interface Answer {
  status: number;
  body: { data?: { topProducts?: Array<Record<string, unknown>> } | null; errors?: unknown[] };
}
type Outcome = { ok: true; answer: Answer; retried: boolean } | { ok: false; error: string; retried: boolean };

/** A connection that was reused and closed under the request before its answer: the one case a client may retry blind. */
const CLOSED_BEFORE_ANSWER = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);
const codeOf = (error: unknown) => (error as { code?: string }).code ?? String(error);

/** One client on one keep-alive connection at a time, which knows whether a request went out on a reused one. */
function virtualUser(origin: string) {
  const client = new Client(origin, { pipelining: 1, keepAliveTimeout: 60_000 });
  let connected = false;
  let answeredOnConnection = 0;
  client.on('connect', () => {
    connected = true;
    answeredOnConnection = 0;
  });
  client.on('disconnect', () => {
    connected = false;
    answeredOnConnection = 0;
  });
  let retries = 0;
  return {
    retries: () => retries,
    close: () => client.destroy(),
    async send(query: string): Promise<Outcome> {
      for (let attempt = 0; ; attempt += 1) {
        const reused = connected && answeredOnConnection > 0;
        try {
          const response = await client.request({ path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
          const body = (await response.body.json()) as Answer['body'];
          answeredOnConnection += 1;
          return { ok: true, answer: { status: response.statusCode, body }, retried: attempt > 0 };
        } catch (error) {
          if (attempt === 0 && reused && CLOSED_BEFORE_ANSWER.has(codeOf(error))) {
            retries += 1;
            continue;
          }
          return { ok: false, error: codeOf(error), retried: attempt > 0 };
        }
      }
    },
  };
}

const complete = (outcome: Outcome, field: string) =>
  outcome.ok &&
  outcome.answer.status === 200 &&
  outcome.answer.body.errors === undefined &&
  (outcome.answer.body.data?.topProducts ?? []).length > 0 &&
  outcome.answer.body.data!.topProducts!.every((product) => product[field] !== undefined && product[field] !== null);

interface Spawned {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
}

async function spawnGateway(stack: TestStack, env: Record<string, string>, listeners: number): Promise<Spawned> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: REPO,
    env: {
      ...process.env,
      // Not `test`: Apollo Server would install its own signal handlers here if they were not turned off.
      NODE_ENV: 'development',
      PORT: String(port),
      HOST: '127.0.0.1',
      METRICS_PORT: String(await freePort()),
      SUPERGRAPH_PATH: stack.supergraphPath,
      ...stack.trust.gatewayEnv,
      PERSISTED_DIR: join(stack.persistedDir, `shutdown-${port}`),
      RATE_LIMIT_IP: '10000000',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  await until(
    () => {
      if (child.exitCode !== null) throw new Error(`the gateway exited:\n${output}`);
      return (output.match(/gateway listening/g) ?? []).length >= listeners;
    },
    { timeoutMs: 60_000, intervalMs: 100, what: () => `the gateway listening:\n${output}` },
  );
  return { child, url: `http://127.0.0.1:${port}`, output: () => output, exited };
}

const logLines = (output: string) =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg: string; listener?: string; inFlight?: number; finished?: number; cut?: number });

let stack: TestStack;
let inventory: FaultyProxy;
const spawned: ChildProcess[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  inventory = await startFaultyProxy(stack.subgraphUrls.inventory);
});
afterAll(async () => {
  for (const child of spawned) if (child.exitCode === null) child.kill('SIGKILL');
  await inventory?.close();
  await stack?.stop();
});

describe.each([1, 2])('SIGTERM under load with WORKERS=%i', (workers) => {
  it('turns /ready 503 before the listener closes, answers every request in full, finishes the one in flight and exits 0 by itself', async () => {
    const gateway = await spawnGateway(
      stack,
      { WORKERS: String(workers), SHUTDOWN_DELAY_MS: '1500', SUBGRAPH_URL_INVENTORY: inventory.url, SUBGRAPH_RETRIES: '0' },
      workers,
    );
    spawned.push(gateway.child);

    // The load balancer: polls /ready on fresh connections, and takes the gateway out of rotation on a 503.
    const observed: Array<'ready' | 'draining' | 'refused' | 'reset' | 'other'> = [];
    // What an unexpected probe answer was, so a failure says it.
    const others: string[] = [];
    let inRotation = true;
    const balancer = (async () => {
      while (gateway.child.exitCode === null && !observed.includes('refused')) {
        try {
          const answer = await request(`${gateway.url}/ready`, { reset: true });
          const body = (await answer.body.json()) as { status: string };
          const seen = answer.statusCode === 200 ? 'ready' : body.status === 'draining' ? 'draining' : 'other';
          if (seen === 'other') others.push(`${answer.statusCode} ${JSON.stringify(body)}`);
          observed.push(seen);
          if (answer.statusCode === 503) inRotation = false;
        } catch (error) {
          // With WORKERS>1 the primary may hand a probe's connection to a worker whose listener is
          // closing: reset, which a balancer counts as a failed check like a refusal.
          const code = codeOf(error);
          const seen = code === 'ECONNREFUSED' ? 'refused' : code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' ? 'reset' : 'other';
          if (seen === 'other') others.push(code);
          observed.push(seen);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    // Bounded load: 8 clients, each sending one request after another while the gateway is in rotation (at most 400 each).
    const users = Array.from({ length: 8 }, () => virtualUser(gateway.url));
    const outcomes: Outcome[] = [];
    const load = Promise.all(
      users.map(async (user) => {
        for (let i = 0; i < 400 && inRotation; i += 1) outcomes.push(await user.send(LOAD_QUERY));
      }),
    );
    await until(() => outcomes.length >= 50, { timeoutMs: 30_000, what: () => `50 answers under load (${outcomes.length})` });

    // One request whose inventory fetch is held: in flight from before SIGTERM until after the listener closed.
    inventory.plan([{ kind: 'hold' }]);
    const heldUser = virtualUser(gateway.url);
    const held = heldUser.send(HELD_QUERY);
    await until(() => inventory.held() === 1, { timeoutMs: 10_000, what: 'the inventory fetch held' });

    gateway.child.kill('SIGTERM');
    const listenerClosed = () => logLines(gateway.output()).filter((line) => line.msg.startsWith('listener closed') && line.listener === 'http');
    await until(() => listenerClosed().length === workers, { timeoutMs: 30_000, what: () => `every worker's listener closed:\n${gateway.output()}` });
    inventory.releaseHeld();
    const heldOutcome = await held;
    const [code, signal] = await gateway.exited;
    await Promise.all([load, balancer]);
    for (const user of [...users, heldUser]) await user.close();

    // Readiness flipped while the gateway still served, and the load balancer saw it before any refusal.
    expect(observed).toContain('draining');
    for (const failedCheck of ['refused', 'reset'] as const) {
      const first = observed.indexOf(failedCheck);
      if (first !== -1) expect(observed.indexOf('draining')).toBeLessThan(first);
    }
    expect(others).toEqual([]);

    // Every request was answered in full: none failed, none is missing a field.
    const failed = outcomes.filter((outcome) => !complete(outcome, 'name'));
    expect(failed).toEqual([]);
    expect(outcomes.length).toBeGreaterThanOrEqual(50);
    expect(complete(heldOutcome, 'inStock')).toBe(true);

    // The held request was in flight when its worker's listener closed, and finished there.
    const lines = logLines(gateway.output());
    expect(listenerClosed().reduce((sum, line) => sum + (line.inFlight ?? 0), 0)).toBeGreaterThanOrEqual(1);
    const drained = lines.filter((line) => line.msg === 'drained' && line.listener === 'http');
    expect(drained).toHaveLength(workers);
    expect(drained.reduce((sum, line) => sum + (line.finished ?? 0), 0)).toBeGreaterThanOrEqual(1);
    expect(drained.every((line) => line.cut === 0)).toBe(true);

    // It exited by itself, cleanly: every process logged its exit, none hit the close backstop.
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(lines.filter((line) => line.msg === 'shut down; exiting')).toHaveLength(workers);
    expect(gateway.output()).not.toMatch(/shutdown did not finish in time/);
  }, 120_000);
});

describe('SIGTERM after Redis was stopped and started again', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('still closes every Redis connection and exits 0 by itself', async () => {
    const gateway = await spawnGateway(
      stack,
      { REDIS_URL: redis.url, RESPONSE_CACHE: 'redis', REDIS_PREFIX: `shutdown:${process.pid}:`, REDIS_COMMAND_TIMEOUT_MS: '500', REDIS_CONNECT_TIMEOUT_MS: '1000' },
      1,
    );
    spawned.push(gateway.child);
    const user = virtualUser(gateway.url);
    const outcomes: Outcome[] = [];
    const sendSome = async (count: number) => {
      for (let i = 0; i < count; i += 1) outcomes.push(await user.send(LOAD_QUERY));
    };
    await sendSome(5);
    await redis.kill();
    const down = () => logLines(gateway.output()).filter((line) => line.msg.startsWith('Redis is unavailable')).length;
    const back = () => logLines(gateway.output()).filter((line) => line.msg.startsWith('Redis is available again')).length;
    // Served from the fallbacks meanwhile; every connection (APQ, rate limits, response cache, persisted) notices.
    await until(async () => (await sendSome(1), down() >= 4), { timeoutMs: 20_000, what: () => `the outage noticed:\n${gateway.output()}` });
    await redis.start();
    await until(async () => (await sendSome(1), back() >= down()), { timeoutMs: 30_000, what: () => `Redis used again:\n${gateway.output()}` });
    await sendSome(5);
    await user.close();

    gateway.child.kill('SIGTERM');
    const [code, signal] = await gateway.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(gateway.output()).toMatch(/gateway closed: Apollo, the subgraph connections and Redis/);
    expect(gateway.output()).not.toMatch(/shutdown did not finish in time/);
    expect(outcomes.filter((outcome) => !complete(outcome, 'name'))).toEqual([]);
  }, 120_000);
});
