import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../src/server.ts';
import { tokenFor } from '@shop/test-support';
import { startTestStack, type TestStack } from '@shop/test-support/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as { data?: Record<string, unknown> | null; errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, unknown> }> } };
}

describe('authentication against a JWKS with key rotation', () => {
  let jwks: Server;
  let keys: JWK[] = [];
  let gateway: RunningGateway;
  const ISSUER = 'https://id.shop.test/';
  const AUDIENCE = 'shop-api';

  beforeAll(async () => {
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    gateway = await stack.startGateway({
      AUTH_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
      AUTH_JWKS_COOLDOWN_SECONDS: '0',
    });
  });
  afterAll(async () => {
    await new Promise((resolve) => jwks?.close(resolve));
  });

  async function newKey(kid: string) {
    const pair = await generateKeyPair('RS256', { extractable: true });
    keys = [...keys, { ...(await exportJWK(pair.publicKey)), kid, alg: 'RS256', use: 'sig' }];
    return pair;
  }
  const me = (token: string) => post(gateway.url, { query: '{ me { id } }' }, { authorization: `Bearer ${token}` });

  it('accepts tokens from the current key, and from a rotated-in key without a restart', async () => {
    const first = await newKey('k1');
    const token = await new SignJWT({ scope: 'orders:read' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('5')
      .setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(first.privateKey);
    expect((await me(token)).body).toEqual({ data: { me: { id: '5' } } });

    const second = await newKey('k2');
    const rotated = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k2' }).setSubject('6')
      .setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(second.privateKey);
    expect((await me(rotated)).body).toEqual({ data: { me: { id: '6' } } });
  });

  it('refuses a wrong audience or issuer, a token not yet valid, alg none and an HMAC token (key-type confusion)', async () => {
    const pair = await newKey('k3');
    const base = () => new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k3' }).setSubject('5').setExpirationTime('5m');
    const refused = async (token: string) => {
      const response = await me(token);
      expect(response.status).toBe(401);
      expect(response.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    };
    await refused(await base().setIssuer(ISSUER).setAudience('another-api').sign(pair.privateKey));
    await refused(await base().setIssuer('https://evil.test/').setAudience(AUDIENCE).sign(pair.privateKey));
    await refused(await base().setIssuer(ISSUER).setAudience(AUDIENCE).setNotBefore('10m').sign(pair.privateKey));

    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(
      JSON.stringify({ sub: '5', iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 300 }),
    ).toString('base64url')}.`;
    await refused(unsigned);

    // An attacker who signs HS256 with the public key as the HMAC secret.
    const publicJwk = keys.find((k) => k.kid === 'k3')!;
    const confused = await new SignJWT({}).setProtectedHeader({ alg: 'HS256', kid: 'k3' }).setSubject('5')
      .setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    await refused(confused);
  });
});

describe('authorization directives and ownership', () => {
  it('removes fields the caller may not see, with an UNAUTHORIZED error at their path, and serves the rest', async () => {
    const anonymous = await stack.query('{ user(id: "7") { id username email } }');
    expect(anonymous.body.data).toEqual({ user: { id: '7', username: expect.any(String), email: null } });
    expect(anonymous.body.errors).toEqual([expect.objectContaining({ path: ['user', 'email'], extensions: expect.objectContaining({ code: 'UNAUTHORIZED' }) })]);

    const lists = await stack.query<{ users: Array<{ id: string; email: null }> }>('{ users(first: 3) { id email } }');
    expect(lists.body.data!.users).toHaveLength(3);
    for (const user of lists.body.data!.users) expect(user.email).toBeNull();
    expect(lists.body.errors?.[0]?.path).toEqual(['users', '@', 'email']);
  });

  it('lets a user see their own email and orders, and no one else\'s', async () => {
    const token = await tokenFor(7);
    const own = await stack.query<{ user: { email: string; orders: unknown[] } }>('{ user(id: "7") { email orders { id } } }', {}, { token });
    expect(own.body.errors).toBeUndefined();
    expect(own.body.data!.user.email).toMatch(/@/);

    const other = await stack.query<{ user: { email: string | null; orders: unknown } }>('{ user(id: "8") { email orders { id } } }', {}, { token });
    expect(other.body.data!.user).toEqual({ email: null, orders: null });
    expect(other.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('requires the scopes @requiresScopes names', async () => {
    const noScopes = await tokenFor(7, { scope: 'profile' });
    const response = await stack.query<{ me: { id: string; orders: unknown } }>('{ me { id orders { id } } }', {}, { token: noScopes });
    expect(response.body.data).toEqual({ me: { id: '7', orders: null } });
    expect(response.body.errors?.[0]).toMatchObject({ path: ['me', 'orders'], extensions: { code: 'UNAUTHORIZED' } });
    expect(response.body.errors?.[0]?.message).toMatch(/orders:read/);
  });
});
