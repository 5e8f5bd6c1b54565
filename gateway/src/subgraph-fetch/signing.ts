import { ANONYMOUS_CLAIMS, CLAIMS_HEADER, SIGNATURE_HEADER, encodeClaims, signature } from '@shop/service-kit';
import type { FetcherLayer } from './fetcher.ts';

const ANONYMOUS_ENCODED = encodeClaims(ANONYMOUS_CLAIMS);

/**
 * Signs every subgraph request with the secret shared with the subgraphs, over the caller's
 * claims and the body, so a subgraph answers only the gateway. Here, at the last layer before
 * the wire, because only here is the final body known.
 */
export function signRequests(secret: string): FetcherLayer {
  return (next) => async (url, init) => {
    const headers: Record<string, string> = { ...(init?.headers as Record<string, string> | undefined) };
    const claims = headers[CLAIMS_HEADER] ?? ANONYMOUS_ENCODED;
    headers[CLAIMS_HEADER] = claims;
    headers[SIGNATURE_HEADER] = signature(secret, claims, typeof init?.body === 'string' ? init.body : '');
    return next(url, { ...init, headers });
  };
}
