import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SubgraphName } from '@shop/db';
import { createLogger } from '@shop/observability';
import type { RunningGateway } from '../src/server.ts';
import { openPersistedStore } from '../src/persisted/open-store.ts';
import { startRedisServer, tokenFor, until, type RedisServer } from '@shop/test-support';
import { startInProcessSupergraph, type InProcessSupergraph } from '@shop/test-support/harness';

/**
 * Redis faults under load, for real: a redis-server of this test's own (never the shared one) is
 * killed, hung with SIGSTOP and started again while clients keep sending a mix of operations to
 * the gateway over HTTP. Every request must still be answered; Redis is used again after.
 */

// Every log line of the gateway and the subgraphs, to count what an outage logs.
const lines: Array<{ msg: string; component?: string }> = [];
const logger = createLogger(
  'test',
  'info',
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as { msg: string; component?: string });
      done();
    },
  }),
);
const logged = (component: string, what: 'unavailable' | 'available again') =>
  lines.filter((line) => line.component === component && line.msg.startsWith(`Redis is ${what}`)).length;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const PARTNER_KEY = 'shop_test_partner_key_redis_faults_0';
const PARTNER_OPERATION = { id: 'op-partner-products', name: 'PartnerProducts', type: 'query' as const, body: 'query PartnerProducts { topProducts(first: 3) { upc name price } }' };
// A connection that flapped (a late answer taken for an outage) would show as extra log lines.
const TIMEOUTS = { REDIS_COMMAND_TIMEOUT_MS: '500', REDIS_CONNECT_TIMEOUT_MS: '1000' };

const PARTNER_PRODUCT = { id: 'op-partner-product', name: 'PartnerProduct', type: 'query' as const, body: 'query PartnerProduct { product(upc: "048213000011") { upc name } }' };

let redis: RedisServer;
let supergraph: InProcessSupergraph;
let gateway: RunningGateway;
let inspect: Redis;
let token: string;

beforeAll(async () => {
  redis = await startRedisServer();
  // Only to look at keys while the server is up; bounded so a mistake cannot hang the test.
  inspect = new Redis(redis.url, { commandTimeout: 2000, maxRetriesPerRequest: 1 });
  inspect.on('error', () => {});
  await publish([PARTNER_OPERATION]);

  supergraph = await startInProcessSupergraph({
    databaseUrls: inject('databaseUrls'),
    logger,
    nodeEnv: 'test',
    subgraphEnv: { REDIS_URL: redis.url, ...TIMEOUTS },
  });
  gateway = await supergraph.startGateway({
    REDIS_URL: redis.url,
    RESPONSE_CACHE: 'redis',
    RATE_LIMIT_IP: '10000000',
    RATE_LIMIT_CLIENT: '10000000',
    // Recorded operations are flushed often, so the outage meets several flushes.
    OPERATION_RECORDING_FLUSH_MS: '100',
    ...TIMEOUTS,
  });
  token = await tokenFor(1);
});

afterAll(async () => {
  inspect?.disconnect();
  await supergraph?.stop();
  await redis?.stop();
});

/** Registers the partner and publishes its manifest, as `npm run pq` would. */
async function publish(operations: Array<typeof PARTNER_OPERATION>) {
  const store = openPersistedStore({ redisUrl: redis.url, dir: '/nonexistent', redisPrefix: 'shop:pq:' });
  try {
    await store.putClient({ name: 'partner', policy: 'enforce', apiKeyHash: sha256(PARTNER_KEY), createdAt: new Date().toISOString() });
    await store.publishManifest('partner', 'catalog', operations);
  } finally {
    await store.close();
  }
}

type Body = { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
async function post(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Body }> {
  const response = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Body };
}

/** One request of the mix, as a client would make it; returns what went wrong, or null. */
type Kind = 'plain' | 'apq' | 'persisted' | 'authenticated';
const KINDS: Kind[] = ['plain', 'apq', 'persisted', 'authenticated'];
const apqQueries = [1, 2, 3, 4].map((n) => `{ users(first: ${n}) { id name } }`);
const answered = (response: { status: number; body: Body }) =>
  response.status === 200 && response.body.errors === undefined && response.body.data != null ? null : `${response.status} ${JSON.stringify(response.body).slice(0, 300)}`;

async function send(kind: Kind, i: number): Promise<string | null> {
  switch (kind) {
    case 'plain':
      return answered(await post({ query: i % 2 ? '{ topProducts(first: 2) { upc name inStock } }' : '{ users(first: 3) { id name } }' }));
    case 'apq': {
      // Apollo Client: the hash alone first; on PERSISTED_QUERY_NOT_FOUND, the query with its hash.
      const query = apqQueries[i % apqQueries.length]!;
      const extensions = { persistedQuery: { version: 1, sha256Hash: sha256(query) } };
      const byHash = await post({ extensions });
      if (byHash.body.errors?.[0]?.extensions?.code !== 'PERSISTED_QUERY_NOT_FOUND') return answered(byHash);
      apqMisses += 1;
      return answered(await post({ query, extensions }));
    }
    case 'persisted':
      return answered(await post({ extensions: { persistedQuery: { version: 1, sha256Hash: PARTNER_OPERATION.id } } }, { 'x-api-key': PARTNER_KEY }));
    case 'authenticated':
      return answered(await post({ query: '{ me { id name } }' }, { authorization: `Bearer ${token}` }));
  }
}

let apqMisses = 0;

/** Clients that keep sending the mix until stopped, counting every answer. */
function load(concurrency = 6) {
  const failures: string[] = [];
  let completed = 0;
  let running = true;
  const clients = Array.from({ length: concurrency }, async (_, client) => {
    for (let i = client; running; i += concurrency) {
      const kind = KINDS[i % KINDS.length]!;
      const failure = await send(kind, Math.floor(i / KINDS.length)).catch((error: unknown) => `request failed: ${String(error)}`);
      completed += 1;
      if (failure) failures.push(`${kind}: ${failure}`);
    }
  });
  return {
    failures,
    completed: () => completed,
    /** Waits until `count` more requests have been answered. */
    async more(count: number) {
      const target = completed + count;
      await until(() => completed >= target, { timeoutMs: 60_000, what: () => `${count} more requests (at ${completed} of ${target}); failures: ${failures.slice(0, 3).join('; ')}` });
    },
    async stop() {
      running = false;
      await Promise.all(clients);
    },
  };
}

/** A gateway's metrics, from its internal metrics listener (not its public port). */
async function metricsOf(gateway: RunningGateway): Promise<string> {
  return (await fetch(`${gateway.metricsUrl}/metrics`)).text();
}
const sample = (metrics: string, name: string, component: string) =>
  Number(new RegExp(`^${name}\\{component="${component}"[^}]*\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? NaN);
const GATEWAY_COMPONENTS = ['apq', 'rate_limit', 'response_cache'];
const allUp = async () => {
  const metrics = await metricsOf(gateway);
  return [...GATEWAY_COMPONENTS, 'persisted'].every((component) => sample(metrics, 'redis_up', component) === 1);
};
const subgraphNames = (): SubgraphName[] => Object.keys(supergraph.subgraphs.services) as SubgraphName[];
async function subgraphNonceDegraded(): Promise<number> {
  let total = 0;
  for (const name of subgraphNames()) {
    const metrics = await supergraph.subgraphs.services[name].metrics.registry.metrics();
    total += sample(metrics, 'redis_degraded_operations_total', 'nonce');
  }
  return total;
}

describe('Redis faults under load', () => {
  it('cost no request: killed, started again empty, hung and resumed; Redis is used again after each', async () => {
    await until(allUp, { what: 'every Redis connection up' });
    const traffic = load();
    try {
      await traffic.more(100);
      // Redis serves: APQ documents, rate-limit counters, cached answers and nonces are there.
      const keysOf = async (pattern: string) => (await inspect.keys(pattern)).length;
      await until(async () => (await keysOf('shop:apq:*')) > 0 && (await keysOf('shop:rl:*')) > 0 && (await keysOf('shop:gateway:response:*')) > 0);
      expect(await keysOf('shop:internal-nonce:*')).toBeGreaterThan(0);
      const before = await metricsOf(gateway);
      const degradedBefore = Object.fromEntries(GATEWAY_COMPONENTS.map((c) => [c, sample(before, 'redis_degraded_operations_total', c)]));

      // (a) Killed: connections cut, reconnections refused.
      await redis.kill();
      await traffic.more(200);
      const down = await metricsOf(gateway);
      for (const component of [...GATEWAY_COMPONENTS, 'persisted']) expect(sample(down, 'redis_up', component)).toBe(0);
      for (const component of GATEWAY_COMPONENTS) expect(sample(down, 'redis_degraded_operations_total', component)).toBeGreaterThan(degradedBefore[component]!);
      expect(apqMisses).toBeGreaterThan(0);
      // Operation recording flushes in the background: its failures are counted, never a request's.
      const flushFailures = (metrics: string) => Number(/^gateway_operation_recording_flush_failures_total(?:\{[^}]*\})? (\d+)/m.exec(metrics)?.[1] ?? NaN);
      await until(async () => flushFailures(await metricsOf(gateway)) > 0, { what: 'a failed flush of recorded operations counted' });

      // (c) Started again on the same port, empty: the gateway reconnects by itself and fills it again.
      await redis.start();
      await until(allUp, { what: 'every Redis connection up after the restart' });
      await traffic.more(100);
      const written = async () => Promise.all(['shop:rl:*', 'shop:gateway:response:*'].map(keysOf));
      let seen: number[] = [];
      await until(async () => (seen = await written()).every((n) => n > 0), { what: () => `keys written to the restarted Redis: ${seen.join(', ')}` });
      // APQ registers a document when Apollo executes it; the mix's documents may be answered from
      // the response cache meanwhile, so register one no cached answer holds.
      const fresh = '{ users(first: 7) { id } }';
      const apq = { persistedQuery: { version: 1, sha256Hash: sha256(fresh) } };
      expect((await post({ extensions: apq })).body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      expect(answered(await post({ query: fresh, extensions: apq }))).toBeNull();
      await until(async () => (await keysOf('shop:apq:*')) > 0, { what: 'an APQ document written to the restarted Redis' });
      // The counts kept through the outage are written to the restarted Redis.
      await until(async () => (await keysOf('shop:ops:doc:*')) > 0, { what: 'recorded operations written to the restarted Redis' });
      expect(await keysOf('shop:internal-nonce:*')).toBeGreaterThan(0);
      // The restarted Redis lost the published manifest: the gateway keeps the one it had loaded,
      // and takes what is published again into effect (its reloads resumed by themselves).
      expect(gateway.registry.operation('partner', PARTNER_OPERATION.id)).toBeDefined();
      await publish([PARTNER_OPERATION, PARTNER_PRODUCT]);
      await until(() => gateway.registry.operation('partner', PARTNER_PRODUCT.id) !== undefined, { what: 'a manifest published after the restart loaded' });

      // (b) Hung: connections stay open and nothing is answered.
      const degradedBeforeHang = sample(await metricsOf(gateway), 'redis_degraded_operations_total', 'apq');
      redis.pause();
      try {
        await traffic.more(200);
        // A timed-out command is confirmed by a PING, itself bounded by the command timeout: requests
        // that all timed out together can finish before that PING does, so the state may lag them by one timeout.
        await until(async () => {
          const now = await metricsOf(gateway);
          return sample(now, 'redis_up', 'apq') === 0 && sample(now, 'redis_up', 'rate_limit') === 0;
        }, { what: 'the apq and rate_limit connections marked down while Redis hangs', timeoutMs: 5_000 });
        const hung = await metricsOf(gateway);
        expect(sample(hung, 'redis_degraded_operations_total', 'apq')).toBeGreaterThan(degradedBeforeHang);
      } finally {
        redis.resume();
      }
      await until(allUp, { what: 'every Redis connection up after the hang' });
      // Answers cached before the hang would serve hash-only requests without an APQ lookup.
      await inspect.del(...(await inspect.keys('shop:apq:*')), ...(await inspect.keys('shop:gateway:response:*')));
      const counted = async () => Number(await inspect.get('shop:rl:ip:127.0.0.1'));
      const countedBefore = await counted();
      await traffic.more(100);
      await until(async () => (await keysOf('shop:apq:*')) > 0 && (await keysOf('shop:gateway:response:*')) > 0, { what: 'APQ documents and answers stored again after the hang' });
      expect(await counted()).toBeGreaterThanOrEqual(countedBefore + 100);
    } finally {
      await traffic.stop();
    }

    expect(traffic.failures).toEqual([]);
    expect(traffic.completed()).toBeGreaterThanOrEqual(700);
    // Two outages (killed, hung): each logged once when it began and once when it ended, never per request.
    for (const component of GATEWAY_COMPONENTS) {
      expect({ component, down: logged(component, 'unavailable'), up: logged(component, 'available again') }).toEqual({ component, down: 2, up: 2 });
    }
    // The subgraphs checked nonces in process meanwhile, each logging at most once per outage.
    expect(await subgraphNonceDegraded()).toBeGreaterThan(0);
    expect(logged('nonce', 'unavailable')).toBeGreaterThan(0);
    expect(logged('nonce', 'unavailable')).toBeLessThanOrEqual(2 * subgraphNames().length);
  }, 180_000);

  it('rate limits stay enforced in process while Redis is killed or hung, and are counted in Redis again after', async () => {
    const limited = (prefix: string) => supergraph.startGateway({ REDIS_URL: redis.url, REDIS_PREFIX: prefix, RATE_LIMIT_IP: '5', ...TIMEOUTS });
    const statuses = async (target: RunningGateway, count: number) => {
      const seen: number[] = [];
      for (let i = 0; i < count; i += 1) {
        const response = await fetch(target.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ users(first: 1) { id } }' }) });
        seen.push(response.status);
      }
      return seen;
    };
    const rateLimitUp = async (target: RunningGateway) => sample(await metricsOf(target), 'redis_up', 'rate_limit') === 1;
    const LIMITED = [200, 200, 200, 200, 200, 429, 429];

    const killed = await limited('killed:');
    await until(() => rateLimitUp(killed));
    await redis.kill();
    try {
      expect(await statuses(killed, 7)).toEqual(LIMITED);
    } finally {
      await redis.start();
    }
    await until(() => rateLimitUp(killed), { what: 'the rate limiter reconnected' });
    // Counted in the (restarted, empty) Redis again: a window of its own there.
    expect(await statuses(killed, 1)).toEqual([200]);
    expect(await inspect.get('killed:rl:ip:127.0.0.1')).toBe('1');

    const hung = await limited('hung:');
    await until(() => rateLimitUp(hung));
    redis.pause();
    try {
      expect(await statuses(hung, 7)).toEqual(LIMITED);
      // Found out: the requests after the first ones no longer wait for Redis.
      expect(await rateLimitUp(hung)).toBe(false);
    } finally {
      redis.resume();
    }
    await until(() => rateLimitUp(hung), { what: 'the rate limiter back on Redis after the hang' });
    const before = Number(await inspect.get('hung:rl:ip:127.0.0.1'));
    expect(await statuses(hung, 1)).toEqual([200]);
    expect(Number(await inspect.get('hung:rl:ip:127.0.0.1'))).toBe(before + 1);
  }, 120_000);
});
