import type { IncomingHttpHeaders } from 'node:http';
import type { Caller } from './auth/authenticate.ts';
import type { DocumentPolicy } from './persisted/types.ts';

/** Who is calling, as far as the gateway could tell. */
export interface ClientInfo {
  /** Registered client name, else the unverified `apollographql-client-name`, else "anonymous". */
  name: string;
  version: string | null;
  policy: DocumentPolicy;
  /** True when identified by an API key or a token claim of a registered client. */
  registered: boolean;
  /** Whose published operations this caller may send by id: its own, or PQ_DEFAULT_CLIENT's for unregistered callers. */
  manifestsOf: string | null;
}

export interface GatewayContext {
  caller: Caller;
  client: ClientInfo;
  /** The persisted operation id the request was sent by, if any. */
  persistedQueryId: string | null;
  /** Correlates the response, logs and (with tracing) the trace of this request. */
  requestId: string;
  requestHeaders: IncomingHttpHeaders;
  /** Static cost of the operation, once known (demand control). */
  cost?: number;
}
