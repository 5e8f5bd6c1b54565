import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign as cryptoSign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet, type JWK } from 'jose';
import { z } from 'zod';
import { HttpError } from './http/errors.ts';
import type { RedisConnection } from './redis-connection.ts';

/**
 * Only the gateway may act for a user on a subgraph. It signs each request with its own private
 * key (Ed25519); subgraphs hold only public keys, tagged with the issuer they belong to, so a
 * subgraph that can verify cannot mint. Each token is bound to one request (audience, method,
 * path and query, body hash), lives a few seconds and is accepted once (its nonce is remembered),
 * so a captured token cannot be replayed or reused elsewhere. Another service may call a subgraph
 * with its own key, as itself only: user claims are accepted from the gateway's issuer alone.
 */
export const INTERNAL_TOKEN_HEADER = 'x-shop-internal-token';
/** The issuer whose tokens may carry a user's claims. */
export const GATEWAY_ISSUER = 'gateway';
const ALGORITHM = 'EdDSA';

/** What the gateway verified about the caller, as the subgraphs see it. */
export interface InternalClaims {
  /** accounts.User.id of the signed-in user, or null when anonymous. */
  userId: number | null;
  scopes: string[];
  /** Who signed: "gateway", or another service calling as itself (e.g. "orders"). */
  issuer: string;
}

export const ANONYMOUS_CLAIMS: InternalClaims = { userId: null, scopes: [], issuer: GATEWAY_ISSUER };

/** The parts of an HTTP request a token is bound to. */
export interface BoundRequest {
  /** The subgraph the request is for: the token's audience. */
  audience: string;
  method: string;
  /** Path and query string exactly as on the request line, e.g. `/graphql`. */
  target: string;
  body: string;
}

/** The token's claims beyond the registered ones: short names, as in DPoP (htm, htu). */
interface TokenPayload {
  htm: string;
  htu: string;
  /** base64url sha256 of the body. */
  bh: string;
  scope?: string;
}

const bodyHash = (body: string) => createHash('sha256').update(body).digest('base64url');

// --- keys -------------------------------------------------------------------------------------

/** A private Ed25519 key from a private JWK (JSON) or a PKCS8 PEM; throws with a message naming what is wrong. */
export function parsePrivateKey(text: string): KeyObject {
  let key: KeyObject;
  try {
    const trimmed = text.trim();
    key = trimmed.startsWith('{')
      ? createPrivateKey({ key: JSON.parse(trimmed) as JsonWebKey, format: 'jwk' })
      : createPrivateKey(trimmed);
  } catch {
    throw new Error('expected a private Ed25519 key: a private JWK (JSON with "d") or a PKCS8 PEM');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`expected an Ed25519 key (got ${key.asymmetricKeyType ?? 'unknown'})`);
  return key;
}

/** The public JWK a verifier needs for `privateKey`, under `kid`. */
export function publicJwkOf(privateKey: KeyObject, kid: string): JWK {
  const { kty, crv, x } = createPublicKey(privateKey).export({ format: 'jwk' });
  return { kty, crv, x, kid, alg: ALGORITHM, use: 'sig' };
}

/** A fresh key pair: the private key as JWK JSON (what INTERNAL_SIGNING_KEY takes) and its public JWK. */
export function generateInternalKeyPair(kid: string): { privateKey: string; publicJwk: JWK } {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { privateKey: JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid }), publicJwk: publicJwkOf(privateKey, kid) };
}

const publicJwk = z
  .object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string().min(1), kid: z.string().min(1) })
  .passthrough()
  .refine((jwk) => !('d' in jwk), 'a private key does not belong here: give only public keys');

/** Issuer -> its public key set: what a subgraph trusts. */
export type TrustedKeys = Record<string, JSONWebKeySet>;

/** Parses INTERNAL_TRUSTED_KEYS: `{"<issuer>": {"keys": [<public Ed25519 JWK with kid>, ...]}, ...}`. */
export const trustedKeysSchema = z
  .string({ message: 'expected a JSON object of issuer -> public JWK set, e.g. {"gateway":{"keys":[...]}}' })
  .transform((text, ctx): TrustedKeys => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected JSON: an object of issuer -> public JWK set, e.g. {"gateway":{"keys":[...]}}' });
      return z.NEVER;
    }
    const parsed = z.record(z.string().min(1), z.object({ keys: z.array(publicJwk).min(1) })).safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      ctx.addIssue({ code: 'custom', message: `expected issuer -> {"keys":[public Ed25519 JWKs with kid]}: ${issue?.path.join('.')}: ${issue?.message}` });
      return z.NEVER;
    }
    if (!parsed.data[GATEWAY_ISSUER]) {
      ctx.addIssue({ code: 'custom', message: `must include the "${GATEWAY_ISSUER}" issuer's keys` });
      return z.NEVER;
    }
    return parsed.data as TrustedKeys;
  });

/** Parses a private signing key variable (JWK JSON or PKCS8 PEM). */
export const signingKeySchema = z.string({ message: 'expected a private Ed25519 key: a private JWK (JSON) or a PKCS8 PEM' }).transform((text, ctx) => {
  try {
    return parsePrivateKey(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** A key id: short, printable, no spaces. */
export const keyIdSchema = z.string().regex(/^[\w.:-]{1,64}$/, 'expected a key id of 1-64 letters, digits, ".", ":", "_" or "-"');

// --- signing ----------------------------------------------------------------------------------

export interface InternalSigner {
  readonly issuer: string;
  /** A token for exactly this request; `claims` (the user) only from the gateway. */
  sign(request: BoundRequest, claims?: Pick<InternalClaims, 'userId' | 'scopes'>, now?: number): Promise<string>;
}

export interface SignerOptions {
  issuer: string;
  privateKey: KeyObject;
  keyId: string;
  /** Lifetime of a token: it is used at once, so a few seconds. */
  ttlSeconds?: number;
}

/**
 * The token as a compact JWS made with node:crypto's Ed25519 directly: the gateway signs one per
 * subgraph fetch, and jose's SignJWT (WebCrypto underneath) costs several times the signature
 * itself there. Verifying stays with jose's jwtVerify, where the checks are that matter.
 */
export function createInternalSigner({ issuer, privateKey, keyId, ttlSeconds = 5 }: SignerOptions): InternalSigner {
  const header = base64url({ alg: ALGORITHM, kid: keyId, typ: 'shop-internal+jwt' });
  return {
    issuer,
    async sign(request, claims, now = Date.now()) {
      const iat = Math.floor(now / 1000);
      const payload: TokenPayload & Record<string, unknown> = {
        htm: request.method.toUpperCase(),
        htu: request.target,
        bh: bodyHash(request.body),
        iss: issuer,
        aud: request.audience,
        iat,
        exp: iat + ttlSeconds,
        jti: randomUUID(),
      };
      if (claims?.scopes.length) payload.scope = claims.scopes.join(' ');
      if (claims?.userId !== null && claims?.userId !== undefined) payload.sub = String(claims.userId);
      const signingInput = `${header}.${base64url(payload)}`;
      return `${signingInput}.${cryptoSign(null, Buffer.from(signingInput), privateKey).toString('base64url')}`;
    },
  };
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

// --- verifying --------------------------------------------------------------------------------

/** Remembers nonces for a while; answers whether this is the first time one is seen. */
export interface NonceStore {
  firstUse(nonce: string, ttlSeconds: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Nonces in this process: enough for one replica, not shared between replicas. */
export function memoryNonceStore(): NonceStore {
  const seen = new Map<string, number>();
  let nextSweep = 0;
  return {
    async firstUse(nonce, ttlSeconds) {
      const now = Date.now();
      // Swept at most once a second, so the map stays as small as the window and costs little per request.
      if (now >= nextSweep) {
        for (const [key, expires] of seen) if (expires <= now) seen.delete(key);
        nextSweep = now + 1000;
      }
      const expires = seen.get(nonce);
      if (expires !== undefined && expires > now) return false;
      seen.set(nonce, now + ttlSeconds * 1000);
      return true;
    },
    async close() {
      seen.clear();
    },
  };
}

/**
 * Nonces in Redis, so replicas refuse a token another replica has accepted, and in this process
 * too. While Redis is unavailable, the in-process record alone decides (counted as degraded
 * operations of the `nonce` component): this replica still refuses every replay it has seen, and
 * a replay to another replica is possible only within the token's few seconds of validity, bound
 * to its audience, method, path and body (see SECURITY.md). Refusing the gateway's requests
 * instead would turn a Redis outage into an outage of every subgraph.
 */
export function redisNonceStore(redis: RedisConnection, prefix: string): NonceStore {
  const local = memoryNonceStore();
  return {
    async firstUse(nonce, ttlSeconds) {
      if (!(await local.firstUse(nonce, ttlSeconds))) return false;
      return redis.attempt(async (client) => (await client.set(`${prefix}${nonce}`, '1', 'EX', ttlSeconds, 'NX')) === 'OK', () => true);
    },
    async close() {
      await local.close();
      await redis.close();
    },
  };
}

export interface VerifierOptions {
  /** This subgraph's name: tokens for any other audience are refused. */
  audience: string;
  trustedKeys: TrustedKeys;
  /** How far `iat` may be from this host's clock, either way. */
  maxSkewSeconds: number;
  nonces: NonceStore;
}

export type InternalVerifier = (request: Omit<BoundRequest, 'audience'> & { token: string | undefined }, now?: number) => Promise<InternalClaims>;

export function createInternalVerifier(options: VerifierOptions): InternalVerifier {
  const keySets = new Map(Object.entries(options.trustedKeys).map(([issuer, jwks]) => [issuer, createLocalJWKSet(jwks)]));
  const skew = options.maxSkewSeconds;
  // A token is acceptable while |now - iat| <= skew, so remembering its nonce that long (and a second) closes replay.
  const nonceTtl = 2 * skew + 1;

  return async ({ token, method, target, body }, now = Date.now()) => {
    if (!token) throw refused('INTERNAL_TOKEN_MISSING', 'This service answers only the gateway: the request carries no internal token.');
    let issuer: string | undefined;
    try {
      if (decodeProtectedHeader(token).alg !== ALGORITHM) throw new Error('alg');
      issuer = decodeJwt(token).iss;
    } catch {
      throw refused('INTERNAL_TOKEN_INVALID', 'The internal token is malformed.');
    }
    const keys = issuer === undefined ? undefined : keySets.get(issuer);
    if (!keys || issuer === undefined) throw refused('INTERNAL_TOKEN_INVALID', 'The internal token is from an issuer this service does not trust.');

    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: [ALGORITHM],
        issuer,
        audience: options.audience,
        clockTolerance: skew,
        currentDate: new Date(now),
        requiredClaims: ['iat', 'exp', 'jti', 'htm', 'htu', 'bh'],
      }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw refused('INTERNAL_TOKEN_EXPIRED', 'The internal token has expired.');
      if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'aud') {
        throw refused('INTERNAL_TOKEN_MISMATCH', `The internal token is for another service, not ${options.audience}.`);
      }
      throw refused('INTERNAL_TOKEN_INVALID', 'The internal token does not verify against the trusted keys.');
    }

    const iat = payload.iat as number;
    const nowSeconds = now / 1000;
    if (iat > nowSeconds + skew) throw refused('INTERNAL_TOKEN_EXPIRED', 'The internal token is issued in the future.');
    if (iat < nowSeconds - skew) throw refused('INTERNAL_TOKEN_EXPIRED', 'The internal token is stale.');
    if (payload.htm !== method.toUpperCase() || payload.htu !== target) {
      throw refused('INTERNAL_TOKEN_MISMATCH', 'The internal token was signed for another method or path.');
    }
    if (payload.bh !== bodyHash(body)) throw refused('INTERNAL_TOKEN_MISMATCH', 'The request body is not the one the internal token was signed for.');

    const hasUser = payload.sub !== undefined || payload.scope !== undefined;
    if (hasUser && issuer !== GATEWAY_ISSUER) {
      throw refused('INTERNAL_CLAIMS_NOT_ALLOWED', `Only the gateway may act for a user; "${issuer}" may call only as itself.`);
    }
    const userId = payload.sub === undefined ? null : Number(payload.sub);
    if (userId !== null && !Number.isSafeInteger(userId)) throw refused('INTERNAL_TOKEN_INVALID', 'The internal token names an invalid user.');
    if (payload.scope !== undefined && typeof payload.scope !== 'string') throw refused('INTERNAL_TOKEN_INVALID', 'The internal token has invalid scopes.');

    // Last, so a refused token does not use up its nonce.
    let first: boolean;
    try {
      first = await options.nonces.firstUse(`${issuer}:${String(payload.jti)}`, nonceTtl);
    } catch {
      // Without the store a replay cannot be told apart: refuse, but as our failure, so the gateway may retry.
      throw new HttpError(503, 'INTERNAL_NONCE_STORE_UNAVAILABLE', 'Used internal tokens cannot be checked right now; retry.');
    }
    if (!first) {
      throw refused('INTERNAL_TOKEN_REPLAYED', 'The internal token has already been used.');
    }
    return { userId, scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [], issuer };
  };
}

function refused(code: string, message: string): HttpError {
  return new HttpError(401, code, message);
}

// --- a stack's keys ---------------------------------------------------------------------------

export interface StackTrust {
  /** The gateway's private key (JWK JSON) and key id. */
  gateway: { privateKey: string; keyId: string; publicJwk: JWK };
  /** Orders' own key, for its price look-ups at products and its stock reservations at inventory. */
  orders: { privateKey: string; keyId: string; publicJwk: JWK };
  /** INTERNAL_SIGNING_KEY(_ID) for the gateway. */
  gatewayEnv: Record<string, string>;
  /** INTERNAL_TRUSTED_KEYS for a subgraph, and orders' own key for orders. */
  subgraphEnv(name: string): Record<string, string>;
}

/**
 * Fresh key pairs for a whole stack on one machine (`npm start`, tests, tools): the gateway's,
 * trusted by every subgraph, and orders', trusted by products (for prices) and inventory (for stock) only.
 */
export function generateStackTrust(): StackTrust {
  const suffix = randomUUID().slice(0, 8);
  const pair = (issuer: string) => {
    const keyId = `${issuer}-${suffix}`;
    const { privateKey } = generateInternalKeyPair(keyId);
    return { privateKey, keyId };
  };
  return stackTrustFrom({ gateway: pair(GATEWAY_ISSUER), orders: pair('orders') });
}

/** A stack's trust from its two private keys (another process's `generateStackTrust`). */
export function stackTrustFrom(keys: { gateway: { privateKey: string; keyId: string }; orders: { privateKey: string; keyId: string } }): StackTrust {
  const withPublic = (key: { privateKey: string; keyId: string }) => ({ ...key, publicJwk: publicJwkOf(parsePrivateKey(key.privateKey), key.keyId) });
  const gateway = withPublic(keys.gateway);
  const orders = withPublic(keys.orders);
  return {
    gateway,
    orders,
    gatewayEnv: { INTERNAL_SIGNING_KEY: gateway.privateKey, INTERNAL_SIGNING_KEY_ID: gateway.keyId },
    subgraphEnv(name) {
      const trusted: TrustedKeys = { [GATEWAY_ISSUER]: { keys: [gateway.publicJwk] } };
      if (name === 'products' || name === 'inventory') trusted.orders = { keys: [orders.publicJwk] };
      return {
        INTERNAL_TRUSTED_KEYS: JSON.stringify(trusted),
        ...(name === 'orders' ? { INTERNAL_SIGNING_KEY: orders.privateKey, INTERNAL_SIGNING_KEY_ID: orders.keyId } : {}),
      };
    },
  };
}
