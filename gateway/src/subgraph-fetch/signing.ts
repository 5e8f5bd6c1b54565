import type { KeyObject } from 'node:crypto';
import { createInternalSigner, GATEWAY_ISSUER, INTERNAL_TOKEN_HEADER, type InternalClaims } from '@shop/service-kit';
import type { FetcherLayer } from './fetcher.ts';

/**
 * What the data source tells this layer about a fetch: which subgraph it is for and the caller's
 * claims. Headers, so that deduplication (an earlier layer) keys on them; removed here, never sent.
 */
export const AUDIENCE_HEADER = 'x-shop-internal-audience';
export const CLAIMS_HEADER = 'x-shop-internal-claims';

export function encodeClaims(claims: Pick<InternalClaims, 'userId' | 'scopes'>): string {
  return JSON.stringify({ userId: claims.userId, scopes: claims.scopes });
}

function decodeClaims(encoded: string | undefined): Pick<InternalClaims, 'userId' | 'scopes'> {
  if (encoded === undefined) return { userId: null, scopes: [] };
  return JSON.parse(encoded) as Pick<InternalClaims, 'userId' | 'scopes'>;
}

/**
 * Signs every subgraph request with the gateway's private key: a token bound to the subgraph,
 * method, path and query, body hash and a fresh nonce, carrying the caller's claims. Here, at the
 * last layer before the wire, because only here is the final body known, and after deduplication,
 * so that each request that goes out has its own nonce.
 */
export function signRequests(key: { privateKey: KeyObject; keyId: string }): FetcherLayer {
  const signer = createInternalSigner({ issuer: GATEWAY_ISSUER, privateKey: key.privateKey, keyId: key.keyId });
  return (next) => async (url, init) => {
    const headers: Record<string, string> = { ...(init?.headers as Record<string, string> | undefined) };
    const audience = headers[AUDIENCE_HEADER];
    // Only the data source makes subgraph calls; one that does not say for whom is a bug, not a request to sign anyhow.
    if (!audience) throw new Error(`A subgraph fetch to ${url} has no ${AUDIENCE_HEADER}: it cannot be signed.`);
    const claims = decodeClaims(headers[CLAIMS_HEADER]);
    delete headers[AUDIENCE_HEADER];
    delete headers[CLAIMS_HEADER];
    const { pathname, search } = new URL(url);
    const method = (init?.method ?? 'GET').toUpperCase();
    headers[INTERNAL_TOKEN_HEADER] = await signer.sign(
      { audience, method, target: `${pathname}${search}`, body: typeof init?.body === 'string' ? init.body : '' },
      claims,
    );
    return next(url, { ...init, headers });
  };
}
