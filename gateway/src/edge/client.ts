import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { GraphQLError } from 'graphql';
import type { Caller } from '../auth/authenticate.ts';
import type { ClientInfo } from '../context.ts';
import { established, type Stage } from '../exchange.ts';
import type { PersistedRegistry } from '../persisted/registry.ts';
import type { DocumentPolicy, PersistedSnapshot } from '../persisted/types.ts';

export const API_KEY_HEADER = 'x-api-key';

const header = (headers: IncomingHttpHeaders, name: string) => {
  const value = headers[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() || undefined;
};

/** Which client is calling (`exchange.client`), from the verified caller and the registered clients. */
export function identifyClient(registry: PersistedRegistry, unregistered: UnregisteredCallers): Stage {
  return async (exchange, next) => {
    exchange.client = clientOf(exchange.req.headers, established(exchange, 'caller'), registry.current(), unregistered);
    return next();
  };
}

/** What applies to callers that are not a registered client. */
export interface UnregisteredCallers {
  policy: DocumentPolicy;
  /** The registered client whose published operations they may send by id. */
  manifestsOf: string | null;
}

/**
 * Identifies the calling client: by API key (looked up by its hash), else by the token's
 * client claim, else by the self-declared `apollographql-client-name` (recorded, but it grants
 * nothing: unregistered callers get the default policy, held to the default client's manifests
 * when one is configured). A wrong API key is refused, not ignored.
 */
export function clientOf(
  headers: IncomingHttpHeaders,
  caller: Caller,
  snapshot: PersistedSnapshot,
  unregistered: UnregisteredCallers,
): ClientInfo {
  const version = header(headers, 'apollographql-client-version')?.slice(0, 64) ?? null;
  const apiKey = header(headers, API_KEY_HEADER);
  if (apiKey !== undefined) {
    const client = snapshot.clientsByKeyHash.get(createHash('sha256').update(apiKey).digest('hex'));
    if (!client) {
      throw new GraphQLError('The API key is not valid.', { extensions: { code: 'INVALID_API_KEY', http: { status: 401 } } });
    }
    return { name: client.name, version, policy: client.policy, registered: true, manifestsOf: client.name };
  }
  if (caller.clientId) {
    const client = snapshot.clientsByName.get(caller.clientId);
    if (client) return { name: client.name, version, policy: client.policy, registered: true, manifestsOf: client.name };
  }
  const declared = header(headers, 'apollographql-client-name');
  // Bounded, printable names only: this value ends up in logs and metric labels.
  const name = declared && /^[\w.@/-]{1,64}$/.test(declared) ? declared : 'anonymous';
  return { name, version, policy: unregistered.policy, registered: false, manifestsOf: unregistered.manifestsOf };
}
