import { GraphQLError } from 'graphql';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Stage } from '../exchange.ts';

export interface Caller {
  /** accounts.User.id when the token's subject is a user, else null. */
  userId: number | null;
  scopes: string[];
  /** OAuth client of the token (`client_id` or `azp` claim), when it has one. */
  clientId: string | null;
}

export const ANONYMOUS: Caller = { userId: null, scopes: [], clientId: null };

export type AuthOptions =
  | {
      kind: 'jwks';
      jwksUrl: string;
      cooldownSeconds: number;
      algorithms: string[];
      issuer: string;
      audience: string;
      clockToleranceSeconds: number;
    }
  | { kind: 'secret'; secret: string; algorithms: string[]; issuer?: string | undefined; audience?: string | undefined; clockToleranceSeconds: number };

/**
 * Verifies `Authorization: Bearer <jwt>` against a JWKS (production) or a shared secret
 * (development). The algorithm allow-list is per key source, so an HS256 token signed with a
 * public key (key-type confusion) or `alg: none` never verifies. No header means an anonymous
 * caller; a header that does not verify is refused (401), never downgraded to anonymous.
 */
export function createAuthenticator(options: AuthOptions) {
  const key: Uint8Array | JWTVerifyGetKey =
    options.kind === 'jwks'
      ? // jose caches the key set and refetches it when a token names an unknown kid (key
        // rotation), at most once per cooldown so bad tokens cannot hammer the IdP.
        createRemoteJWKSet(new URL(options.jwksUrl), {
          cacheMaxAge: 10 * 60_000,
          cooldownDuration: options.cooldownSeconds * 1000,
          timeoutDuration: 5_000,
        })
      : new TextEncoder().encode(options.secret);

  return async (authorization: string | undefined): Promise<Caller> => {
    if (!authorization) return ANONYMOUS;
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(authorization.trim());
    if (!match) throw unauthenticated('The Authorization header must be "Bearer <token>".', 'INVALID_TOKEN');
    let payload: JWTPayload;
    try {
      const verifyOptions = {
        algorithms: options.algorithms,
        issuer: options.issuer,
        audience: options.audience,
        clockTolerance: options.clockToleranceSeconds,
        requiredClaims: ['sub', 'exp'],
      };
      // Two calls rather than one with a union key: jose types the overloads separately.
      payload =
        typeof key === 'function'
          ? (await jwtVerify(match[1]!, key, verifyOptions)).payload
          : (await jwtVerify(match[1]!, key, verifyOptions)).payload;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw unauthenticated('The token has expired.', 'TOKEN_EXPIRED');
      // The key set could not be fetched: the identity provider's problem, not the caller's.
      if (error instanceof joseErrors.JWKSTimeout || !(error instanceof joseErrors.JOSEError)) {
        throw new GraphQLError('The token cannot be verified right now; retry later.', {
          extensions: { code: 'AUTH_UNAVAILABLE', http: { status: 503, headers: { 'retry-after': '5' } } },
        });
      }
      throw unauthenticated('The token is not valid.', 'INVALID_TOKEN');
    }
    return callerFromClaims(payload);
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;

/** Verifies the caller's bearer token, once per request (`exchange.caller`); later stages read it from there. */
export function authenticate(authenticator: Authenticator): Stage {
  return async (exchange, next) => {
    exchange.caller = await authenticator(exchange.req.headers.authorization);
    return next();
  };
}

function callerFromClaims(payload: JWTPayload): Caller {
  const sub = String(payload.sub);
  const userId = /^[1-9]\d{0,9}$/.test(sub) && Number(sub) <= 2_147_483_647 ? Number(sub) : null;
  const scope = typeof payload.scope === 'string' ? payload.scope : Array.isArray(payload.scp) ? payload.scp.join(' ') : '';
  const client = typeof payload.client_id === 'string' ? payload.client_id : typeof payload.azp === 'string' ? payload.azp : null;
  return { userId, scopes: scope.split(' ').filter(Boolean), clientId: client };
}

function unauthenticated(message: string, reason: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', reason, http: { status: 401 } } });
}
