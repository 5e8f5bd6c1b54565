import type { Fetcher, FetcherRequestInit, FetcherResponse } from '@apollo/utils.fetcher';
import { Headers } from 'undici';
import { BufferedResponse } from './buffered-response.ts';
import { AUDIENCE_HEADER } from './signing.ts';

interface Shared {
  status: number;
  statusText: string;
  /** One Headers for every caller of the shared answer: they read it (content type, cache control), none writes it. */
  headers: Headers;
  body: string;
}

/** Only read-only operations may be shared; the gateway writes `{"query":"query ...` or `{"query":"{...`. */
const QUERY_BODY = /^\{"query":"(query\b|\{)/;

/**
 * Identical subgraph query fetches in flight at the same time (same URL, body and headers, so
 * the same caller) go out once; every caller gets its own Response over the shared body text,
 * parsed separately, so no two requests ever share a mutable result object. Mutations always go out.
 *
 * `mayJoin(subgraph)` false: a caller does not join a fetch already in flight to that subgraph but
 * makes its own call. While a subgraph's circuit is not closed, the fetch in flight may be the
 * breaker's probe of a hung subgraph; joining it would make every caller of the same operation
 * wait out the probe's timeout, where its own call fails fast.
 */
export function dedupSubgraphFetches(fetcher: Fetcher, mayJoin: (subgraph: string) => boolean = () => true): Fetcher & { inFlight(): number } {
  const inFlight = new Map<string, Promise<Shared>>();
  const dedup = async (url: string, init?: FetcherRequestInit): Promise<FetcherResponse> => {
    const body = typeof init?.body === 'string' ? init.body : undefined;
    if (body === undefined || init?.method !== 'POST' || !QUERY_BODY.test(body)) return fetcher(url, init);
    const key = keyOf(url, init.headers, body);
    let shared = inFlight.get(key);
    if (shared && !mayJoin(init.headers?.[AUDIENCE_HEADER] ?? '')) return fetcher(url, init);
    if (!shared) {
      shared = (async () => {
        const response = await fetcher(url, init);
        return { status: response.status, statusText: response.statusText, headers: new Headers([...response.headers]), body: await response.text() };
      })().finally(() => inFlight.delete(key));
      inFlight.set(key, shared);
    }
    const { status, statusText, headers, body: text } = await shared;
    return new BufferedResponse(url, status, headers, text, statusText);
  };
  return Object.assign(dedup as Fetcher, { inFlight: () => inFlight.size });
}

/**
 * URL, headers (sorted) and body, NUL-separated: neither a URL nor a header name or value can hold
 * a NUL (fetch refuses them), and the body comes last, so no two requests read alike. Not JSON: the
 * body, often kilobytes of representations, would be escaped into a copy for every fetch.
 */
function keyOf(url: string, headers: FetcherRequestInit['headers'], body: string): string {
  let key = `${url}\u0000`;
  let previous = '';
  let sorted = true;
  // Apollo's data source builds them from a Headers, whose names come sorted: then no sort, no entries array.
  for (const name in headers) {
    if (name < previous) {
      sorted = false;
      break;
    }
    previous = name;
    key += `${name}\u0000${String(headers[name])}\u0000`;
  }
  if (!sorted) {
    key = `${url}\u0000`;
    for (const [name, value] of Object.entries(headers ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) key += `${name}\u0000${String(value)}\u0000`;
  }
  return `${key}\u0000${body}`;
}
