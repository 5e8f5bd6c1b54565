import { setTimeout as sleep } from 'node:timers/promises';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@shop/service-kit';
import { until } from '@shop/test-support';
import { startTestStack, type SubgraphName, type TestStack } from '@shop/test-support/stack';

// Security regressions, each over HTTP against the real gateway: what a caller can make the
// gateway do or tell that it must not.

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

interface Answer {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
    extensions?: Record<string, unknown>;
  };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Answer['body'] };
}

const codeOf = (answer: Answer) => answer.body.errors?.[0]?.extensions?.code;
const total = (counts: Record<SubgraphName, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

const PRODUCTION_SECRET = 'a-production-secret-of-at-least-32-characters';
const ISSUER = 'https://id.shop.test/';
const AUDIENCE = 'shop-api';
const PRODUCTION = { NODE_ENV: 'production', AUTH_JWT_SECRET: PRODUCTION_SECRET, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE };

/** An HS256 token of user 3 signed with the production gateways' secret, with the claims given. */
function token(claims: { issuer?: string; audience?: string }): Promise<string> {
  const jwt = new SignJWT({ scope: 'orders:read reviews:write' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject('3').setIssuedAt().setExpirationTime('5m');
  if (claims.issuer) jwt.setIssuer(claims.issuer);
  if (claims.audience) jwt.setAudience(claims.audience);
  return jwt.sign(new TextEncoder().encode(PRODUCTION_SECRET));
}

describe('cost limit', () => {
  const NESTED = (first: string, nested: string) =>
    `users(first: ${first}) { reviews(first: ${nested}) { product { reviews(first: ${nested}) { id } } } }`;

  it('costs an operation with its own variable defaults, as it costs the same page sizes written as literals', async () => {
    const literal = await post(stack.gatewayUrl, { query: `{ ${NESTED('100', '50')} }` });
    expect(codeOf(literal)).toBe('COST_LIMIT_EXCEEDED');

    const defaults = await post(stack.gatewayUrl, { query: `query Q($n: Int = 100, $m: Int = 50) { ${NESTED('$n', '$m')} }` });
    expect(defaults.status).toBe(400);
    expect(codeOf(defaults)).toBe('COST_LIMIT_EXCEEDED');
    expect(defaults.body.errors?.[0]?.extensions?.cost).toBe(literal.body.errors?.[0]?.extensions?.cost);

    // A variable given in the request wins over the default, in both directions.
    const small = await post(stack.gatewayUrl, { query: `query Q($n: Int = 100, $m: Int = 50) { ${NESTED('$n', '$m')} }`, variables: { n: 1, m: 1 } });
    expect(small.body.errors).toBeUndefined();
    const large = await post(stack.gatewayUrl, { query: `query Q($n: Int = 1, $m: Int = 1) { ${NESTED('$n', '$m')} }`, variables: { n: 100, m: 50 } });
    expect(codeOf(large)).toBe('COST_LIMIT_EXCEEDED');
  });

  it('refuses invalid variables as a bad request, not an internal error', async () => {
    const invalid = await post(stack.gatewayUrl, { query: `query Q($n: Int = 100, $m: Int = 50) { ${NESTED('$n', '$m')} }`, variables: { n: 'many' } });
    expect(invalid.status).toBeLessThan(500);
    expect(invalid.body.errors?.[0]?.message).toMatch(/\$n/);
    expect(invalid.body.data ?? null).toBeNull();
  });
});

describe('call reports', () => {
  const TOP = 'query Top { topProducts(first: 2) { upc name } }';
  const REPORT = { 'x-call-report': '1' };

  it('never come from the response cache, and a caller without the header never gets one', async () => {
    const cached = await stack.startGateway({ RESPONSE_CACHE: 'memory' });
    const reported = await post(cached.url, { query: TOP }, REPORT);
    expect(reported.body.errors).toBeUndefined();
    expect(reported.body).toHaveProperty('extensions.callReport');
    // Nor may an HTTP cache in front of the gateway keep it.
    expect(reported.headers.get('cache-control')).toBe('no-store');

    let plain!: Answer;
    const afterReport = await stack.measure(async () => {
      plain = await post(cached.url, { query: TOP });
    });
    expect(plain.body).not.toHaveProperty('extensions.callReport');
    expect(plain.body.data).toEqual(reported.body.data);
    // The reported answer was not stored: this one was executed.
    expect(total(afterReport.fetches)).toBeGreaterThan(0);

    // Now cached (without a report): a caller asking for a report still gets its own.
    const again = await post(cached.url, { query: TOP }, REPORT);
    expect(again.body).toHaveProperty('extensions.callReport');
    expect((await post(cached.url, { query: TOP })).body).not.toHaveProperty('extensions.callReport');
  });

  it('are never shared with an identical request in flight that did not ask for one', async () => {
    // Accounts never answers, so the first execution stays in flight while the second arrives.
    const { gateway, hanging } = await stack.startGatewayWithHangingSubgraph('accounts', { INBOUND_DEDUP: 'true', RESPONSE_CACHE: 'off' });
    const query = { query: 'query Users { users(first: 1) { id } }' };
    const releaseUntil = async <T>(pending: Promise<T>): Promise<T> => {
      let done = false;
      void pending.finally(() => (done = true));
      while (!done) {
        hanging.release();
        await sleep(50);
      }
      return pending;
    };
    // The first request teaches the gateway that the document is a query (only those are shared).
    await releaseUntil(post(gateway.url, query));

    const before = hanging.connections();
    const leader = post(gateway.url, query, REPORT);
    await until(() => hanging.connections() > before);
    const follower = post(gateway.url, query);
    await sleep(300);
    const [led, followed] = await releaseUntil(Promise.all([leader, follower]));
    expect(led.body).toHaveProperty('extensions.callReport');
    expect(followed.body).not.toHaveProperty('extensions.callReport');
  });
});

describe('schema details in production', () => {
  it('answers a misspelt field without suggesting the real one', async () => {
    const production = await stack.startGateway(PRODUCTION);
    const misspelt = await post(production.url, { query: '{ user(id: "1") { emai } }' });
    expect(misspelt.status).toBe(400);
    expect(codeOf(misspelt)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(misspelt.body.errors?.[0]?.message).toMatch(/Cannot query field "emai"/);
    expect(JSON.stringify(misspelt.body)).not.toMatch(/Did you mean|"email"|\\"email\\"/);

    const input = await post(production.url, { query: 'mutation { addReview(input: { upcc: "1", rating: 5, body: "x" }) { id } }' });
    expect(input.status).toBe(400);
    expect(JSON.stringify(input.body)).not.toMatch(/Did you mean/);

    // A variable's value is checked after validation, and its refusal is written for the client.
    const variable = await post(
      production.url,
      { query: 'mutation Add($input: AddReviewInput!) { addReview(input: $input) { id } }', variables: { input: { upc: '1', upcc: '1', rating: 5, body: 'x' } } },
      { authorization: `Bearer ${await token({ issuer: ISSUER, audience: AUDIENCE })}` },
    );
    expect(codeOf(variable)).toBe('BAD_USER_INPUT');
    expect(variable.body.errors?.[0]?.message).toMatch(/Field "upcc" is not defined by type "AddReviewInput"/);
    expect(JSON.stringify(variable.body)).not.toMatch(/Did you mean/);

    // Outside production the hint stays: it helps whoever writes the query.
    const development = await post(stack.gatewayUrl, { query: '{ user(id: "1") { emai } }' });
    expect(development.body.errors?.[0]?.message).toMatch(/Did you mean "email"\?/);
  });
});

describe('HS256 tokens in production', () => {
  it('a production gateway with AUTH_JWT_SECRET refuses to start without AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE', async () => {
    const refusal = await stack.startGateway({ NODE_ENV: 'production', AUTH_JWT_SECRET: PRODUCTION_SECRET }).then(
      () => 'started',
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(ConfigError);
    expect((refusal as ConfigError).message).toMatch(/AUTH_JWT_ISSUER: [\s\S]*AUTH_JWT_AUDIENCE: /);
  });

  it('accepts only tokens of its issuer and audience', async () => {
    const production = await stack.startGateway(PRODUCTION);
    const me = { query: '{ me { id } }' };
    const ok = await post(production.url, me, { authorization: `Bearer ${await token({ issuer: ISSUER, audience: AUDIENCE })}` });
    expect(ok.body.data).toEqual({ me: { id: '3' } });
    for (const claims of [{}, { issuer: 'https://elsewhere.test/', audience: AUDIENCE }, { issuer: ISSUER, audience: 'other-api' }]) {
      const refused = await post(production.url, me, { authorization: `Bearer ${await token(claims)}` });
      expect(refused.status).toBe(401);
      expect(codeOf(refused)).toBe('UNAUTHENTICATED');
    }
  });
});
