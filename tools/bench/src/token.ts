import { SignJWT } from 'jose';
import { DEVELOPMENT_JWT_SECRET } from '@shop/gateway/config';

/** A bearer token our gateway accepts in development (the bench runs it with the default secret). */
export function tokenFor(userId: number): Promise<string> {
  // The scopes the shop's @requiresScopes ask for: the mixed load places orders and adds reviews.
  return new SignJWT({ scope: 'orders:read orders:write reviews:write' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(String(userId))
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(DEVELOPMENT_JWT_SECRET));
}
