import { describe, expect, it } from 'vitest';
import { CLAIMS_HEADER, SIGNATURE_HEADER, signInternalRequest, verifyInternalRequest } from '../src/internal-auth.ts';

const secret = 'a-shared-secret-of-32-characters!!';
const claims = { userId: 7, scopes: ['orders:read'], issuer: 'gateway' };
const body = '{"query":"{ me { id } }"}';

describe('signed internal requests', () => {
  it('round-trips the claims of a fresh, untampered request', () => {
    const headers = signInternalRequest(secret, body, claims);
    expect(verifyInternalRequest(secret, headers, body, { maxAgeSeconds: 30 })).toEqual(claims);
  });

  it('refuses a missing, stale, tampered or foreign signature with a stable code', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as { code: string; status: number }).code;
      }
      return 'accepted';
    };
    const headers = signInternalRequest(secret, body, claims, Date.now() - 60_000);
    expect(code(() => verifyInternalRequest(secret, {}, body, { maxAgeSeconds: 30 }))).toBe('SIGNATURE_MISSING');
    expect(code(() => verifyInternalRequest(secret, headers, body, { maxAgeSeconds: 30 }))).toBe('SIGNATURE_EXPIRED');
    const fresh = signInternalRequest(secret, body, claims);
    expect(code(() => verifyInternalRequest(secret, fresh, `${body} `, { maxAgeSeconds: 30 }))).toBe('SIGNATURE_INVALID');
    expect(code(() => verifyInternalRequest(`${secret}x`, fresh, body, { maxAgeSeconds: 30 }))).toBe('SIGNATURE_INVALID');
    // Claims swapped for an admin's under the same signature.
    const swapped = { ...fresh, [CLAIMS_HEADER]: Buffer.from(JSON.stringify({ ...claims, userId: 1 })).toString('base64url') };
    expect(code(() => verifyInternalRequest(secret, swapped, body, { maxAgeSeconds: 30 }))).toBe('SIGNATURE_INVALID');
    expect(code(() => verifyInternalRequest(secret, { ...fresh, [SIGNATURE_HEADER]: 'v1=abc' }, body, { maxAgeSeconds: 30 }))).toBe('SIGNATURE_INVALID');
  });
});
