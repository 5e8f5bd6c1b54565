import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/env.ts';
import {
  createInternalSigner,
  createInternalVerifier,
  generateStackTrust,
  memoryNonceStore,
  parsePrivateKey,
  redisNonceStore,
  trustedKeysSchema,
  type BoundRequest,
  type InternalVerifier,
} from '../src/internal-auth.ts';
import { openRedis } from '../src/redis-connection.ts';
import { subgraphEnv } from '../src/subgraph.ts';

const trust = generateStackTrust();
const gateway = createInternalSigner({ issuer: 'gateway', privateKey: parsePrivateKey(trust.gateway.privateKey), keyId: trust.gateway.keyId });
const orders = createInternalSigner({ issuer: 'orders', privateKey: parsePrivateKey(trust.orders.privateKey), keyId: trust.orders.keyId });
const trustedBy = (name: string) => loadConfig(subgraphEnv(4000), { DATABASE_URL: 'postgres://u@h/db', ...trust.subgraphEnv(name) }).INTERNAL_TRUSTED_KEYS;

const request: BoundRequest = { audience: 'orders', method: 'POST', target: '/graphql', body: '{"query":"{ me { id } }"}' };
const user = { userId: 7, scopes: ['orders:read', 'orders:write'] };

function verifierFor(audience: string, maxSkewSeconds = 5): InternalVerifier {
  return createInternalVerifier({ audience, trustedKeys: trustedBy(audience), maxSkewSeconds, nonces: memoryNonceStore() });
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect((error as { status: number }).status).toBe(401);
    return (error as { code: string }).code;
  }
  throw new Error('expected a refusal');
}

describe('internal tokens', () => {
  it("carry the gateway's verified claims for exactly one request", async () => {
    const verify = verifierFor('orders');
    const token = await gateway.sign(request, user);
    expect(await verify({ ...request, token })).toEqual({ ...user, issuer: 'gateway' });
    expect(await verify({ ...request, token: await gateway.sign(request) })).toEqual({ userId: null, scopes: [], issuer: 'gateway' });
  });

  it('refuses a missing, malformed or foreign token', async () => {
    const verify = verifierFor('orders');
    expect(await refusal(verify({ ...request, token: undefined }))).toBe('INTERNAL_TOKEN_MISSING');
    expect(await refusal(verify({ ...request, token: 'not.a.token' }))).toBe('INTERNAL_TOKEN_INVALID');
    // A key of its own, claiming to be the gateway under the gateway's key id.
    const { privateKey } = generateKeyPairSync('ed25519');
    const impostor = createInternalSigner({ issuer: 'gateway', privateKey, keyId: trust.gateway.keyId });
    expect(await refusal(verify({ ...request, token: await impostor.sign(request, user) }))).toBe('INTERNAL_TOKEN_INVALID');
    // Orders' real key, claiming to be the gateway.
    const ordersAsGateway = createInternalSigner({ issuer: 'gateway', privateKey: parsePrivateKey(trust.orders.privateKey), keyId: trust.orders.keyId });
    const forProducts = { ...request, audience: 'products' };
    expect(await refusal(verifierFor('products')({ ...forProducts, token: await ordersAsGateway.sign(forProducts, user) }))).toBe('INTERNAL_TOKEN_INVALID');
    // HMAC with a public key as the secret: only EdDSA is accepted.
    const hs = await new SignJWT({ htm: 'POST', htu: '/graphql', bh: 'x' })
      .setProtectedHeader({ alg: 'HS256', kid: trust.gateway.keyId })
      .setIssuer('gateway')
      .setAudience('orders')
      .setIssuedAt()
      .setExpirationTime('5s')
      .setJti('x')
      .sign(new TextEncoder().encode(String(trust.gateway.publicJwk.x)));
    expect(await refusal(verify({ ...request, token: hs }))).toBe('INTERNAL_TOKEN_INVALID');
  });

  it('accepts another service only as itself, and only where it is trusted', async () => {
    const products = verifierFor('products');
    const forProducts = { ...request, audience: 'products' };
    expect(await products({ ...forProducts, token: await orders.sign(forProducts) })).toEqual({ userId: null, scopes: [], issuer: 'orders' });
    expect(await refusal(products({ ...forProducts, token: await orders.sign(forProducts, user) }))).toBe('INTERNAL_CLAIMS_NOT_ALLOWED');
    expect(await refusal(products({ ...forProducts, token: await orders.sign(forProducts, { userId: null, scopes: ['orders:write'] }) }))).toBe(
      'INTERNAL_CLAIMS_NOT_ALLOWED',
    );
    // Only products and inventory trust orders' key.
    expect(await refusal(verifierFor('orders')({ ...request, token: await orders.sign(request, user) }))).toBe('INTERNAL_TOKEN_INVALID');
  });

  it('refuses a token used for another audience, method, path, query or body', async () => {
    const verify = verifierFor('orders');
    const token = () => gateway.sign(request, user);
    expect(await refusal(verifierFor('reviews')({ ...request, token: await token() }))).toBe('INTERNAL_TOKEN_MISMATCH');
    expect(await refusal(verify({ ...request, method: 'GET', token: await token() }))).toBe('INTERNAL_TOKEN_MISMATCH');
    expect(await refusal(verify({ ...request, target: '/', token: await token() }))).toBe('INTERNAL_TOKEN_MISMATCH');
    expect(await refusal(verify({ ...request, target: '/graphql?query={me{id}}', token: await token() }))).toBe('INTERNAL_TOKEN_MISMATCH');
    expect(await refusal(verify({ ...request, body: `${request.body} `, token: await token() }))).toBe('INTERNAL_TOKEN_MISMATCH');
    expect(await refusal(verify({ ...request, body: '', token: await token() }))).toBe('INTERNAL_TOKEN_MISMATCH');
  });

  it('refuses a stale or future token, within a configurable skew', async () => {
    const verify = verifierFor('orders', 5);
    const now = Date.now();
    expect(await refusal(verify({ ...request, token: await gateway.sign(request, user, now - 20_000) }, now))).toBe('INTERNAL_TOKEN_EXPIRED');
    expect(await refusal(verify({ ...request, token: await gateway.sign(request, user, now + 20_000) }, now))).toBe('INTERNAL_TOKEN_EXPIRED');
    expect(await verify({ ...request, token: await gateway.sign(request, user, now + 3_000) }, now)).toMatchObject({ userId: 7 });
    expect(await verify({ ...request, token: await gateway.sign(request, user, now - 3_000) }, now)).toMatchObject({ userId: 7 });
    expect(await refusal(verifierFor('orders', 1)({ ...request, token: await gateway.sign(request, user, now - 3_000) }, now))).toBe('INTERNAL_TOKEN_EXPIRED');
  });

  it('accepts each token once', async () => {
    const verify = verifierFor('orders');
    const token = await gateway.sign(request, user);
    await verify({ ...request, token });
    expect(await refusal(verify({ ...request, token }))).toBe('INTERNAL_TOKEN_REPLAYED');
    // A refused use does not spend the nonce: the genuine request still goes through.
    const other = await gateway.sign(request, user);
    expect(await refusal(verify({ ...request, body: '{}', token: other }))).toBe('INTERNAL_TOKEN_MISMATCH');
    expect(await verify({ ...request, token: other })).toMatchObject({ userId: 7 });
  });
});

describe('nonce stores', () => {
  it('an unreachable store refuses the request as unavailable, not as the caller\'s fault', async () => {
    const broken = { firstUse: () => Promise.reject(new Error('connection refused')), close: async () => {} };
    const verify = createInternalVerifier({ audience: 'orders', trustedKeys: trustedBy('orders'), maxSkewSeconds: 5, nonces: broken });
    const error = await verify({ ...request, token: await gateway.sign(request, user) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 503, code: 'INTERNAL_NONCE_STORE_UNAVAILABLE' });
  });


  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const connection = openRedis(redisUrl, { component: 'nonce', degradesTo: 'checks nonces in this process only' });
  beforeAll(() => connection.settled());
  afterAll(async () => {
    redis.disconnect();
    await connection.close();
  });

  it('remember a nonce for its time to live, in process and in Redis', async () => {
    const prefix = `test:nonce:${process.pid}:${Date.now()}:`;
    for (const store of [memoryNonceStore(), redisNonceStore(connection, prefix)]) {
      expect(await store.firstUse('a', 1)).toBe(true);
      expect(await store.firstUse('a', 1)).toBe(false);
      expect(await store.firstUse('b', 1)).toBe(true);
    }
    expect(await redis.ttl(`${prefix}a`)).toBeGreaterThan(0);
    await redis.del(`${prefix}a`, `${prefix}b`);
  });

  it('with Redis unreachable, accept a first use and refuse a replay to this replica, counting the degradation', async () => {
    // A port the kernel just handed out and took back: nothing listens, every connection is refused.
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    server.close();
    const unreachable = openRedis(`redis://127.0.0.1:${port}`, { component: 'nonce', degradesTo: 'checks nonces in this process only' });
    try {
      const verify = createInternalVerifier({ audience: 'orders', trustedKeys: trustedBy('orders'), maxSkewSeconds: 5, nonces: redisNonceStore(unreachable, 'test:') });
      const token = await gateway.sign(request, user);
      expect(await verify({ ...request, token })).toMatchObject({ userId: 7 });
      expect(await refusal(verify({ ...request, token }))).toBe('INTERNAL_TOKEN_REPLAYED');
      expect(unreachable.isUp()).toBe(false);
      expect(unreachable.degradedOperations()).toBe(1);
    } finally {
      await unreachable.close();
    }
  });

  it('in Redis, let one replica refuse a token another replica has already accepted', async () => {
    const prefix = `test:nonce:${process.pid}:${Date.now()}:replicas:`;
    const replica = () =>
      createInternalVerifier({ audience: 'orders', trustedKeys: trustedBy('orders'), maxSkewSeconds: 5, nonces: redisNonceStore(connection, prefix) });
    const token = await gateway.sign(request, user);
    expect(await replica()({ ...request, token })).toMatchObject({ userId: 7 });
    expect(await refusal(replica()({ ...request, token }))).toBe('INTERNAL_TOKEN_REPLAYED');
    const keys = await redis.keys(`${prefix}*`);
    expect(keys).toHaveLength(1);
    // Remembered only as long as the token could be accepted.
    expect(await redis.ttl(keys[0]!)).toBeLessThanOrEqual(11);
    await redis.del(...keys);
  });
});

describe('key configuration', () => {
  const parse = (value: string) => trustedKeysSchema.safeParse(value);

  it('takes public Ed25519 keys by issuer, and refuses private keys and missing gateway keys', () => {
    expect(parse(trust.subgraphEnv('products').INTERNAL_TRUSTED_KEYS!).success).toBe(true);
    expect(parse('not json').error?.issues[0]?.message).toMatch(/expected JSON/);
    expect(parse(JSON.stringify({ orders: { keys: [trust.orders.publicJwk] } })).error?.issues[0]?.message).toMatch(/"gateway" issuer's keys/);
    const privateJwk = JSON.parse(trust.gateway.privateKey) as Record<string, unknown>;
    expect(parse(JSON.stringify({ gateway: { keys: [privateJwk] } })).error?.issues[0]?.message).toMatch(/private key does not belong here/);
  });

  it('reads a private key as a JWK or a PKCS8 PEM, Ed25519 only', () => {
    const pem = parsePrivateKey(trust.gateway.privateKey).export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(parsePrivateKey(pem).asymmetricKeyType).toBe('ed25519');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(() => parsePrivateKey(rsa)).toThrow(/Ed25519/);
    expect(() => parsePrivateKey('{"kty":"OKP"}')).toThrow(/private Ed25519 key/);
  });
});
