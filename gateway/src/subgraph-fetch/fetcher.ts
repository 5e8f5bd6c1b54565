import type { Fetcher } from '@apollo/utils.fetcher';

/** A step around every subgraph HTTP call (signing, deduplication): given the next one, it makes the call. */
export type FetcherLayer = (next: Fetcher) => Fetcher;

/** `transport` behind `layers`, first one outermost. */
export function fetcherThrough(layers: readonly FetcherLayer[], transport: Fetcher): Fetcher {
  return layers.reduceRight<Fetcher>((next, layer) => layer(next), transport);
}
