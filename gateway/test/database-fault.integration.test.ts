import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBGRAPHS, type SubgraphName } from '@shop/db';
import { createLogger } from '@shop/observability';
import type { RunningGateway } from '../src/server.ts';
import { startPostgresInstance, tokenFor, until, type PostgresInstance } from '@shop/test-support';
import { createRunDatabases, startInProcessSupergraph, type InProcessSupergraph, type RunDatabases } from '@shop/test-support/harness';

/**
 * PostgreSQL restarted under load, for real: a cluster of this test's own (never the shared
 * 5432) is stopped with `pg_ctl stop -m fast` while clients keep sending operations that need
 * every subgraph's database to the gateway over HTTP. Each answer must come back coded
 * (DATABASE_UNAVAILABLE at the fields that needed the database, never a hang until a timeout,
 * never a 5xx), the subgraphs must say they are not ready, and everything must be whole again
 * once the database is back, without restarting any service.
 */

// Every log line of the gateway and the subgraphs, to count what an outage logs.
const lines: Array<{ msg: string; subgraph?: string }> = [];
const logger = createLogger(
  'test',
  'info',
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as { msg: string; subgraph?: string });
      done();
    },
  }),
);
const logged = (subgraph: string, what: 'unavailable' | 'available again') =>
  lines.filter((line) => line.subgraph === subgraph && line.msg.startsWith(`The ${subgraph} database is ${what}`)).length;

const DATABASE_CODES = new Set(['DATABASE_UNAVAILABLE', 'DATABASE_TIMEOUT']);
const UNLIMITED = { RATE_LIMIT_IP: '10000000', RATE_LIMIT_CLIENT: '10000000' };
// Shorter than the defaults (2 s, 5 s) so that the hung database's answers come quickly; still far above any statement of the seeded shop.
const TIMEOUTS = { DATABASE_CONNECT_TIMEOUT_MS: '1000', DATABASE_STATEMENT_TIMEOUT_MS: '3000' };

let postgres: PostgresInstance;
let databases: RunDatabases;
let supergraph: InProcessSupergraph;
let gateway: RunningGateway;
let production: RunningGateway;
let token: string;

beforeAll(async () => {
  postgres = await startPostgresInstance({ prefix: 'shop-dbfault-pg' });
  databases = await createRunDatabases(postgres.serverUrl, 'dbfault');
  supergraph = await startInProcessSupergraph({ databaseUrls: databases.urls, logger, nodeEnv: 'test', subgraphEnv: TIMEOUTS });
  gateway = await supergraph.startGateway(UNLIMITED);
  production = await supergraph.startGateway({
    ...UNLIMITED,
    NODE_ENV: 'production',
    AUTH_JWT_SECRET: 'production-test-secret-0123456789abcdef',
    AUTH_JWT_ISSUER: 'test-issuer',
    AUTH_JWT_AUDIENCE: 'test-audience',
  });
  token = await tokenFor(1);
}, 300_000);

afterAll(async () => {
  await supergraph?.stop();
  // The cluster goes as a whole: its databases need no dropping.
  await postgres?.destroy();
});

type GraphQLError = { message: string; path?: unknown[]; extensions?: Record<string, unknown> };
type Body = { data?: Record<string, unknown> | null; errors?: GraphQLError[] };
interface Answer {
  kind: Kind;
  status: number;
  body: Body | null;
  /** Why the request got no GraphQL answer at all (connection refused, reset, aborted). */
  failure?: string;
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Body }> {
  // Far beyond any answer the database's timeouts allow: only a guard, so that a hang fails the test instead of stalling it.
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as Body };
}

/** Operations that need every subgraph's database between them. */
type Kind = 'listing' | 'me' | 'order';
const KINDS: Kind[] = ['listing', 'me', 'listing', 'order'];
const LISTING = '{ topProducts(first: 3) { upc name price inStock averageRating reviews { rating author { username } } } }';
const ME = '{ me { id username orders { id total } } }';
const ORDER = 'mutation Place($key: String!) { placeOrder(input: { lines: [{ upc: "048213000011", quantity: 1 }] }, idempotencyKey: $key) { id total } }';

let orderSeq = 0;
async function send(kind: Kind, url = gateway.url): Promise<Answer> {
  const auth = { authorization: `Bearer ${token}` };
  try {
    switch (kind) {
      case 'listing':
        return { kind, ...(await post(url, { query: LISTING })) };
      case 'me':
        return { kind, ...(await post(url, { query: ME }, auth)) };
      case 'order':
        return { kind, ...(await post(url, { query: ORDER, variables: { key: `dbfault-${process.pid}-${(orderSeq += 1)}` } }, auth)) };
    }
  } catch (error) {
    return { kind, status: 0, body: null, failure: String(error) };
  }
}

/** Whole: 200, no error, every field there. */
const whole = (answer: Answer) => answer.status === 200 && !answer.body?.errors && answer.body?.data != null && Object.values(answer.body.data).every((v) => v !== null);
const TIMEOUT_CODES = new Set(['SUBGRAPH_TIMEOUT', 'REQUEST_TIMEOUT']);
/** Coded: 200, and every error is a database fault at a field's path (placing an order may also find products' prices unavailable). */
const coded = (answer: Answer) =>
  answer.status === 200 &&
  (answer.body?.errors?.length ?? 0) > 0 &&
  answer.body!.errors!.every(
    (e) => Array.isArray(e.path) && (DATABASE_CODES.has(String(e.extensions?.code)) || (answer.kind === 'order' && e.extensions?.code === 'PRODUCTS_UNAVAILABLE')),
  );
const describeAnswer = (answer: Answer) => answer.failure ?? `${answer.kind}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 400)}`;

/** Clients that keep sending the mix until stopped, keeping every answer with the phase it was sent in. */
function load(concurrency = 4) {
  let phase = 'before';
  const answers: Array<Answer & { phase: string }> = [];
  let running = true;
  const clients = Array.from({ length: concurrency }, async (_, client) => {
    for (let i = client; running; i += concurrency) {
      const sentIn = phase;
      const answer = await send(KINDS[i % KINDS.length]!);
      answers.push({ ...answer, phase: sentIn });
    }
  });
  return {
    answers,
    setPhase: (next: string) => void (phase = next),
    /** Waits until `count` more answers have come. */
    async more(count: number) {
      const target = answers.length + count;
      await until(() => answers.length >= target, { timeoutMs: 120_000, what: () => `${count} more answers (at ${answers.length} of ${target})` });
    },
    async stop() {
      running = false;
      await Promise.all(clients);
    },
  };
}

async function readiness(name: SubgraphName): Promise<{ status: number; body: { status: string; reason?: string } }> {
  const response = await fetch(`${supergraph.subgraphs.services[name].server.url}/ready`);
  return { status: response.status, body: (await response.json()) as { status: string; reason?: string } };
}
const healthStatus = async (name: SubgraphName) => (await fetch(`${supergraph.subgraphs.services[name].server.url}/health`)).status;
const allReady = async (status: number) => (await Promise.all(SUBGRAPHS.map(readiness))).every((r) => r.status === status);
async function subgraphMetric(name: SubgraphName, pattern: RegExp): Promise<number> {
  const text = await supergraph.subgraphs.services[name].metrics.registry.metrics();
  return [...text.matchAll(new RegExp(pattern.source, 'gm'))].reduce((sum, match) => sum + Number(match[1]), 0);
}

describe('PostgreSQL restarted under load', () => {
  it('answers DATABASE_UNAVAILABLE at once while it is down, reports not ready, and is whole again once it is back, without a restart', async () => {
    await until(() => allReady(200), { what: 'every subgraph ready on its database' });
    const traffic = load();
    try {
      await traffic.more(20);
      const before = traffic.answers.filter((a) => a.phase === 'before');
      expect(before.filter((a) => !whole(a)).map(describeAnswer)).toEqual([]);

      // Stopped: sessions terminated (57P01), then connections refused.
      traffic.setPhase('stopping');
      await postgres.stop();
      traffic.setPhase('down');
      // A pool's idle connections are closed by the shutdown and the probe is refused: not ready, though alive.
      await until(() => allReady(503), { what: 'every subgraph not ready while its database is down' });
      for (const name of SUBGRAPHS) {
        expect(await readiness(name)).toEqual({ status: 503, body: { status: 'not ready', reason: expect.stringMatching(/^database unavailable: /) } });
        expect(await healthStatus(name)).toBe(200);
        expect(await subgraphMetric(name, /^db_up\{[^}]*\} (\d+)/)).toBe(0);
      }
      // The gateway keeps answering, each answer coded, none waiting for a timeout.
      await traffic.more(60);
      const down = traffic.answers.filter((a) => a.phase === 'down');
      expect(down.length).toBeGreaterThanOrEqual(60);
      expect(down.filter((a) => !coded(a)).map(describeAnswer)).toEqual([]);
      const codes = new Set(down.flatMap((a) => a.body?.errors?.map((e) => e.extensions?.code) ?? []));
      expect([...codes]).toEqual(['DATABASE_UNAVAILABLE']);
      // Which subgraph's database and why travel with the code; the driver's message and the server's address do not.
      const listing = down.find((a) => a.kind === 'listing')!;
      expect(listing.body).toEqual({
        data: { topProducts: null },
        errors: [
          {
            message: 'The products database is unavailable; retry shortly.',
            path: ['topProducts'],
            extensions: expect.objectContaining({ code: 'DATABASE_UNAVAILABLE', serviceName: 'products', reason: expect.any(String) }),
          },
        ],
      });
      expect(down.map(describeAnswer).join('\n')).not.toMatch(/127\.0\.0\.1|:\d{4,5}\b|ECONNREFUSED|terminat/i);
      // A production gateway keeps the code, the subgraph and the reason through its error masking.
      const masked = await send('listing', production.url);
      expect(masked.body?.errors?.[0]).toMatchObject({
        message: 'The products database is unavailable; retry shortly.',
        extensions: { code: 'DATABASE_UNAVAILABLE', serviceName: 'products', reason: expect.any(String) },
      });
      for (const name of SUBGRAPHS) expect(await subgraphMetric(name, /^db_errors_total\{[^}]*code="DATABASE_UNAVAILABLE"[^}]*\} (\d+)/)).toBeGreaterThan(0);

      // Started again: the same services, probed back to ready, answer whole again.
      await postgres.start();
      traffic.setPhase('back');
      await until(() => allReady(200), { timeoutMs: 10_000, what: 'every subgraph ready within 10 s of its database coming back' });
      await until(async () => whole(await send('listing')) && whole(await send('me')) && whole(await send('order')), {
        timeoutMs: 10_000,
        what: 'whole answers within 10 s of the database coming back',
      });
      for (const name of SUBGRAPHS) expect(await subgraphMetric(name, /^db_up\{[^}]*\} (\d+)/)).toBe(1);
      await traffic.more(40);
    } finally {
      await traffic.stop();
    }

    // No answer at any point was uncoded, a 5xx, a timeout or no answer at all.
    const problems = traffic.answers.filter((a) => !whole(a) && !coded(a));
    expect(problems.map((a) => `${a.phase} ${describeAnswer(a)}`)).toEqual([]);
    // The answers sent since the last sent after the restart are whole.
    const afterRecovery = traffic.answers.slice(-20);
    expect(afterRecovery.filter((a) => !whole(a)).map(describeAnswer)).toEqual([]);
    // One outage is two log lines per subgraph, not one per failed request.
    for (const name of SUBGRAPHS) {
      expect({ name, down: logged(name, 'unavailable'), up: logged(name, 'available again') }).toEqual({ name, down: 1, up: 1 });
    }
  });

  it('answers a hung database coded within its own timeouts, never the gateway\'s, and serves again once it answers', async () => {
    await until(() => allReady(200), { what: 'every subgraph ready before the hang' });
    const traffic = load();
    try {
      await traffic.more(10);
      // Hung: connections stay open, new ones are accepted by the kernel, nothing is answered.
      await postgres.pause();
      traffic.setPhase('hung');
      // The probe's SELECT 1 gets no answer within the connect timeout.
      await until(() => allReady(503), { timeoutMs: 20_000, what: 'every subgraph not ready while its database hangs' });
      await traffic.more(12);
      const hung = traffic.answers.filter((a) => a.phase === 'hung');
      expect(hung.filter((a) => !coded(a)).map(describeAnswer)).toEqual([]);
      // Answered by the subgraph's database timeouts (1 s to connect, 3 s + 1 s per statement), not the gateway's 10 s subgraph timeout or 30 s deadline.
      const codes = new Set(hung.flatMap((a) => a.body?.errors?.map((e) => String(e.extensions?.code)) ?? []));
      expect([...codes].filter((code) => TIMEOUT_CODES.has(code) || !DATABASE_CODES.has(code))).toEqual([]);

      await postgres.resume();
      traffic.setPhase('resumed');
      await until(() => allReady(200), { timeoutMs: 10_000, what: 'every subgraph ready within 10 s of its database answering again' });
      await until(async () => whole(await send('listing')) && whole(await send('me')) && whole(await send('order')), {
        timeoutMs: 10_000,
        what: 'whole answers within 10 s of the database answering again',
      });
      await traffic.more(20);
    } finally {
      // Never leave the server stopped for the next test or the clean-up.
      await postgres.resume();
      await traffic.stop();
    }
    const problems = traffic.answers.filter((a) => !whole(a) && !coded(a));
    expect(problems.map((a) => `${a.phase} ${describeAnswer(a)}`)).toEqual([]);
    expect(traffic.answers.slice(-10).filter((a) => !whole(a)).map(describeAnswer)).toEqual([]);
  });
});
