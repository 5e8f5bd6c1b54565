import { createHmac, timingSafeEqual } from 'node:crypto';
import { HttpError } from './http/errors.ts';

/**
 * Only the gateway may call a subgraph. It signs each request with a secret it shares with
 * the subgraphs: an HMAC over a timestamp, the caller's verified claims and the body. A
 * subgraph refuses anything unsigned, tampered with or stale, so one that is reachable by
 * mistake still serves no one.
 */
export const SIGNATURE_HEADER = 'x-shop-signature';
export const CLAIMS_HEADER = 'x-shop-claims';

/** What the gateway verified about the caller, as the subgraphs see it. */
export interface InternalClaims {
  /** accounts.User.id of the signed-in user, or null when anonymous. */
  userId: number | null;
  scopes: string[];
  /** Who signed: "gateway", or another service calling a subgraph (e.g. "orders"). */
  issuer: string;
}

export const ANONYMOUS_CLAIMS: InternalClaims = { userId: null, scopes: [], issuer: 'gateway' };

const mac = (secret: string, timestamp: string, claims: string, body: string) =>
  createHmac('sha256', secret).update(`${timestamp}.${claims}.`).update(body).digest();

export function encodeClaims(claims: InternalClaims): string {
  return Buffer.from(JSON.stringify(claims)).toString('base64url');
}

/** The signature header value for a body sent with already encoded claims. */
export function signature(secret: string, encodedClaims: string, body: string, now = Date.now()): string {
  const timestamp = String(Math.floor(now / 1000));
  return `t=${timestamp},v1=${mac(secret, timestamp, encodedClaims, body).toString('hex')}`;
}

/** Both headers a signed internal request carries. */
export function signInternalRequest(secret: string, body: string, claims: InternalClaims, now = Date.now()): Record<string, string> {
  const encodedClaims = encodeClaims(claims);
  return { [CLAIMS_HEADER]: encodedClaims, [SIGNATURE_HEADER]: signature(secret, encodedClaims, body, now) };
}

export interface VerifyOptions {
  /** How old a signature may be; short, so a captured request cannot be replayed for long. */
  maxAgeSeconds: number;
  now?: number;
}

export function verifyInternalRequest(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  options: VerifyOptions,
): InternalClaims {
  const signature = single(headers[SIGNATURE_HEADER]);
  const encodedClaims = single(headers[CLAIMS_HEADER]);
  if (!signature || !encodedClaims) throw refused('SIGNATURE_MISSING', 'This service answers only the gateway: the request is not signed.');
  const match = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(signature);
  if (!match) throw refused('SIGNATURE_INVALID', 'The request signature is malformed.');
  const [, timestamp, hex] = match as unknown as [string, string, string];
  const age = Math.floor((options.now ?? Date.now()) / 1000) - Number(timestamp);
  if (Math.abs(age) > options.maxAgeSeconds) throw refused('SIGNATURE_EXPIRED', 'The request signature is stale.');
  const expected = mac(secret, timestamp, encodedClaims, body);
  if (!timingSafeEqual(expected, Buffer.from(hex, 'hex'))) throw refused('SIGNATURE_INVALID', 'The request signature does not match.');
  try {
    const claims = JSON.parse(Buffer.from(encodedClaims, 'base64url').toString('utf8')) as Partial<InternalClaims>;
    return {
      userId: typeof claims.userId === 'number' && Number.isSafeInteger(claims.userId) ? claims.userId : null,
      scopes: Array.isArray(claims.scopes) ? claims.scopes.filter((s): s is string => typeof s === 'string') : [],
      issuer: typeof claims.issuer === 'string' ? claims.issuer : 'unknown',
    };
  } catch {
    throw refused('SIGNATURE_INVALID', 'The signed claims are malformed.');
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function refused(code: string, message: string): HttpError {
  return new HttpError(401, code, message);
}
