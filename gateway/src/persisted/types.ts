import type { RedisHealth } from '@shop/service-kit';

/** How a client's operations are checked against its published manifests. */
export type DocumentPolicy = 'enforce' | 'log' | 'off';

/** A registered client: a partner app or a first-party frontend. */
export interface ClientRecord {
  name: string;
  policy: DocumentPolicy;
  /** sha256 hex of the client's API key; the key itself is never stored. Null for clients identified by a token claim only. */
  apiKeyHash: string | null;
  createdAt: string;
}

/** One operation of Apollo's persisted query manifest format. */
export interface PersistedOperation {
  id: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  body: string;
}

/** `{"format":"apollo-persisted-query-manifest","version":1,"operations":[...]}` */
export interface PersistedQueryManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: PersistedOperation[];
}

/** Everything the gateway needs in memory to decide a request without I/O. */
export interface PersistedSnapshot {
  clientsByName: Map<string, ClientRecord>;
  clientsByKeyHash: Map<string, ClientRecord>;
  /** client name -> operation id -> operation (all of the client's manifests merged). */
  operations: Map<string, Map<string, PersistedOperation>>;
}

/** One published manifest, as stored: which client, under which name, its operations. */
export interface PublishedManifest {
  client: string;
  manifest: string;
  operations: PersistedOperation[];
}

/**
 * Where clients and published manifests live: Redis when REDIS_URL is set (shared by every
 * replica), else a directory (one machine). Publishing takes effect without a restart: the
 * gateway reloads its snapshot when `watch` reports a change.
 */
export interface PersistedStore {
  /** The state of the store's Redis connection, for metrics; absent for a directory. */
  readonly health?: RedisHealth;
  load(): Promise<PersistedSnapshot>;
  putClient(client: ClientRecord): Promise<void>;
  /** Replaces the client's manifest named `manifestName` (a client may have several). */
  publishManifest(clientName: string, manifestName: string, operations: PersistedOperation[]): Promise<void>;
  /** Calls `onChange` after any publish or client change, on any replica; returns a stop function. */
  watch(onChange: () => void): () => void;
  /** Every published manifest with its client and name (for checks that must say which manifest an operation is in). */
  listManifests(): Promise<PublishedManifest[]>;
  close(): Promise<void>;
}
