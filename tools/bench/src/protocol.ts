/** Messages between the bench harness and its subgraph host process. */
export interface HostReady {
  type: 'ready';
  supergraphPath: string;
  urls: Record<string, string>;
}

export interface HostCounts {
  /** Requests the subgraphs have answered so far (the gateway's subgraph fetches). */
  fetches: number;
  /** SQL statements sent so far; null for in-memory subgraphs. */
  sql: number | null;
}

export type HostMessage = { type: 'counts' } | { type: 'stop' };
export type HostReply = HostReady | ({ type: 'counts' } & HostCounts);
