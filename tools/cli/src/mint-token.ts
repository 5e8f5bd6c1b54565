import { SignJWT } from 'jose';

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

/**
 * An HS256 bearer token of the shape the gateway verifies with a shared secret: what `npm run token`
 * prints, and what the tests and the bench sign in with, so they all mint alike.
 */
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
