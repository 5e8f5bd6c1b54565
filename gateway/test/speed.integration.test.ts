import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productUpc } from '@shop/db';
import { tokenFor } from '@shop/test-support';
import { startTestStack, type SubgraphName, type TestStack } from '@shop/test-support/stack';

// The speed features through the real gateway over HTTP: a shared or cached answer must be the
// answer the gateway gives without them, must never reach another identity, and mutations must
// never be shared or cached. No timings are asserted: only answers and internal-call counts.

const TOP = 'query Top { topProducts(first: 3) { upc name price inStock reviews { rating author { username } } } }';
const ME = 'query Me { me { id username email } }';
const ADD_REVIEW = 'mutation Add($input: AddReviewInput!) { addReview(input: $input) { id body } }';

const total = (counts: Record<SubgraphName, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

describe('inbound deduplication (on, subgraph dedup off, no cache)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ gatewayEnv: { INBOUND_DEDUP: 'true', SUBGRAPH_DEDUP: 'false', RESPONSE_CACHE: 'off' } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('answers concurrent identical queries exactly as a single request is answered', async () => {
    const alone = await stack.query(TOP);
    expect(alone.body.errors).toBeUndefined();
    const together = await Promise.all(Array.from({ length: 20 }, () => stack.query(TOP)));
    for (const response of together) {
      expect(response.status).toBe(200);
      expect(response.body).toEqual(alone.body);
    }
  });

  it('never shares an answer between callers with different tokens', async () => {
    const [alice, bob] = await Promise.all([tokenFor(3), tokenFor(4)]);
    await stack.query(ME, undefined, { token: alice });
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => stack.query<{ me: { id: string } }>(ME, undefined, { token: i % 2 ? bob : alice })),
    );
    answers.forEach((answer, i) => expect(answer.body.data?.me.id).toBe(i % 2 ? '4' : '3'));
  });

  it('executes every one of concurrent identical mutations', async () => {
    const token = await tokenFor(5);
    const variables = { input: { upc: productUpc(7), rating: 5, body: 'Dedup must not swallow me' } };
    await stack.query(ADD_REVIEW, variables, { token });
    const counts = await stack.measure(() =>
      Promise.all(Array.from({ length: 5 }, () => stack.query<{ addReview: { id: string } }>(ADD_REVIEW, variables, { token }))).then(
        (answers) => {
          expect(new Set(answers.map((a) => a.body.data?.addReview.id)).size).toBe(5);
        },
      ),
    );
    expect(counts.fetches.reviews).toBe(5);
  });
});

describe.each(['memory', 'redis'] as const)('response cache (%s)', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      gatewayEnv: {
        RESPONSE_CACHE: kind,
        // Test runs share one Redis: each run has its own keys.
        RESPONSE_CACHE_NAMESPACE: `test:${process.pid}:${Date.now().toString(36)}:`,
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('serves a public answer from the cache, identical to the executed one, with no subgraph call', async () => {
    let first!: Awaited<ReturnType<TestStack['query']>>;
    const miss = await stack.measure(async () => {
      first = await stack.query(TOP);
    });
    expect(first.body.errors).toBeUndefined();
    expect(first.headers.get('cache-control')).toBe('max-age=10, public');
    expect(total(miss.fetches)).toBeGreaterThan(0);

    let second!: Awaited<ReturnType<TestStack['query']>>;
    const hit = await stack.measure(async () => {
      second = await stack.query(TOP);
    });
    expect(total(hit.fetches)).toBe(0);
    expect(total(hit.sql)).toBe(0);
    expect(second.body).toEqual(first.body);
    // The same public answer for a signed-in caller.
    expect((await stack.query(TOP, undefined, { token: await tokenFor(9) })).body).toEqual(first.body);
  });

  it('keeps private answers per user and never serves them to another user or to anonymous callers', async () => {
    const [alice, bob] = await Promise.all([tokenFor(21), tokenFor(22)]);
    const aliceFirst = await stack.query<{ me: { id: string; email: string } }>(ME, undefined, { token: alice });
    expect(aliceFirst.body.data?.me.id).toBe('21');
    expect(aliceFirst.headers.get('cache-control')).toBe('max-age=60, private');

    const aliceAgain = await stack.measure(async () => {
      expect((await stack.query(ME, undefined, { token: alice })).body).toEqual(aliceFirst.body);
    });
    expect(total(aliceAgain.fetches)).toBe(0);

    const bobFirst = await stack.measure(async () => {
      const answer = await stack.query<{ me: { id: string; email: string } }>(ME, undefined, { token: bob });
      expect(answer.body.data?.me.id).toBe('22');
      expect(answer.body.data?.me.email).not.toBe(aliceFirst.body.data?.me.email);
    });
    expect(total(bobFirst.fetches)).toBeGreaterThan(0);

    for (let i = 0; i < 2; i += 1) {
      const anonymous = await stack.measure(async () => {
        expect((await stack.query<{ me: unknown }>(ME)).body.data?.me).toBeNull();
      });
      expect(total(anonymous.fetches)).toBeGreaterThan(0);
    }
  });

  it('never reads the cache for a token that does not verify', async () => {
    await stack.query(TOP);
    const forged = `${(await tokenFor(21)).slice(0, -4)}AAAA`;
    const answer = await stack.query(TOP, undefined, { token: forged });
    expect(answer.status).toBe(401);
    expect(answer.body.data).toBeUndefined();
  });

  it('never caches mutations, answers with errors, or data without cache hints', async () => {
    const token = await tokenFor(23);
    const variables = { input: { upc: productUpc(11), rating: 3, body: 'Cache must not replay me' } };
    const ids = new Set<string>();
    for (let i = 0; i < 2; i += 1) {
      const counts = await stack.measure(async () => {
        ids.add((await stack.query<{ addReview: { id: string } }>(ADD_REVIEW, variables, { token })).body.data!.addReview.id);
      });
      expect(counts.fetches.reviews).toBe(1);
    }
    expect(ids.size).toBe(2);

    const tooMany = 'query TooMany { topProducts(first: 1000) { upc } }';
    for (let i = 0; i < 2; i += 1) {
      const counts = await stack.measure(async () => {
        expect((await stack.query(tooMany)).body.errors).toBeDefined();
      });
      expect(total(counts.fetches)).toBeGreaterThan(0);
    }

    // Orders have no hints: their answers are never cached, even for their owner.
    const orders = 'query Orders { me { id orders(first: 2) { id total } } }';
    for (let i = 0; i < 2; i += 1) {
      const counts = await stack.measure(async () => {
        expect((await stack.query(orders, undefined, { token })).body.errors).toBeUndefined();
      });
      expect(counts.fetches.orders).toBe(1);
    }
  });
});

describe('compression (on)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ gatewayEnv: { COMPRESSION: 'true', COMPRESSION_MIN_BYTES: '100' } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const raw = async (acceptEncoding?: string) => {
    const response = await request(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(acceptEncoding ? { 'accept-encoding': acceptEncoding } : {}) },
      body: JSON.stringify({ query: TOP }),
    });
    return { encoding: response.headers['content-encoding'], bytes: Buffer.from(await response.body.arrayBuffer()) };
  };

  it('sends br or gzip as accepted, decoding to exactly the uncompressed answer', async () => {
    const plain = await raw();
    expect(plain.encoding).toBeUndefined();
    expect(JSON.parse(plain.bytes.toString()).errors).toBeUndefined();

    const br = await raw('gzip, deflate, br');
    expect(br.encoding).toBe('br');
    expect(brotliDecompressSync(br.bytes).toString()).toBe(plain.bytes.toString());

    const gzip = await raw('gzip;q=1, br;q=0');
    expect(gzip.encoding).toBe('gzip');
    expect(gunzipSync(gzip.bytes).toString()).toBe(plain.bytes.toString());
  });
});
