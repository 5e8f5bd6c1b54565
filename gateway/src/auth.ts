import { GraphQLError } from 'graphql';
import { errors as joseErrors, jwtVerify } from 'jose';

export interface Caller {
  /** accounts.User.id, or null for an anonymous caller. */
  userId: number | null;
  scopes: string[];
}

export const ANONYMOUS: Caller = { userId: null, scopes: [] };

export interface AuthOptions {
  secret: string;
  issuer?: string | undefined;
  audience?: string | undefined;
}

/**
 * Verifies `Authorization: Bearer <jwt>`. No header means an anonymous caller; a header
 * that does not verify is refused outright (401), never downgraded to anonymous, so a
 * client with a broken token finds out at once.
 */
export function createAuthenticator(options: AuthOptions) {
  const key = new TextEncoder().encode(options.secret);
  return async (authorization: string | undefined): Promise<Caller> => {
    if (!authorization) return ANONYMOUS;
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(authorization.trim());
    if (!match) throw unauthenticated('The Authorization header must be "Bearer <token>".', 'INVALID_TOKEN');
    try {
      const { payload } = await jwtVerify(match[1]!, key, {
        algorithms: ['HS256'],
        issuer: options.issuer,
        audience: options.audience,
        requiredClaims: ['sub', 'exp'],
      });
      const userId = Number(payload.sub);
      if (!Number.isSafeInteger(userId) || userId < 1) {
        throw unauthenticated('The token subject is not a user id.', 'INVALID_TOKEN');
      }
      const scope = typeof payload.scope === 'string' ? payload.scope : '';
      return { userId, scopes: scope.split(' ').filter(Boolean) };
    } catch (error) {
      if (error instanceof GraphQLError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw unauthenticated('The token has expired.', 'TOKEN_EXPIRED');
      throw unauthenticated('The token is not valid.', 'INVALID_TOKEN');
    }
  };
}

function unauthenticated(message: string, reason: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: 'UNAUTHENTICATED', reason, http: { status: 401 } },
  });
}
