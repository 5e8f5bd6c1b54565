import { SignJWT } from 'jose';

/** Every scope the shop's `@requiresScopes` ask for. */
export const ALL_SCOPES = 'orders:read orders:write reviews:write';

export interface TokenClaims {
  /** The user id (`sub`). */
  subject: string;
  /** Space-separated scopes. */
  scope: string;
  /** A jose time span: `5m`, `2h`, `-1m` (already expired). */
  expiresIn: string;
  clientId?: string;
  issuer?: string;
  audience?: string;
  secret: string;
}

/** An HS256 bearer token of the shape the gateway verifies with a shared secret (development, tests). */
export function mintToken(claims: TokenClaims): Promise<string> {
  const jwt = new SignJWT({ scope: claims.scope, ...(claims.clientId ? { client_id: claims.clientId } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.subject)
    .setIssuedAt()
    .setExpirationTime(claims.expiresIn);
  if (claims.issuer) jwt.setIssuer(claims.issuer);
  if (claims.audience) jwt.setAudience(claims.audience);
  return jwt.sign(new TextEncoder().encode(claims.secret));
}

/**
 * A token of user `userId` that a gateway on the development secret accepts (the test stack's,
 * the bench's): every scope, valid for 5 minutes unless told otherwise.
 */
export async function tokenFor(userId: number, options: { expiresIn?: string; secret?: string; scope?: string } = {}): Promise<string> {
  return mintToken({
    subject: String(userId),
    scope: options.scope ?? ALL_SCOPES,
    expiresIn: options.expiresIn ?? '5m',
    // Imported only here, so that tests which never mint a token (the database package's) do not
    // load the gateway's configuration and the service kit with these helpers.
    secret: options.secret ?? (await import('@shop/gateway/config')).DEVELOPMENT_JWT_SECRET,
  });
}
