import { apiSchemaFromSupergraph, openPersistedStore, storeFromEnv, validateOperations, type PersistedStore } from '@shop/gateway/persisted';

/** A published operation that a supergraph would no longer execute. */
export interface BrokenOperation {
  client: string;
  manifest?: string;
  operationName: string;
  operationId: string;
  messages: string[];
}

/**
 * Validates every published operation against the API schema of `supergraphSdl`: a
 * supergraph that breaks a partner's persisted operation must not ship unnoticed, since the
 * partner cannot change the operation it already deployed.
 */
export async function checkPublishedOperations(supergraphSdl: string, store: PersistedStore): Promise<BrokenOperation[]> {
  const apiSchema = apiSchemaFromSupergraph(supergraphSdl);
  const broken: BrokenOperation[] = [];
  for (const { client, manifest, operations } of await store.listManifests()) {
    for (const failure of validateOperations(apiSchema, operations)) {
      broken.push({ client, manifest, operationName: failure.name, operationId: failure.id, messages: failure.messages });
    }
  }
  return broken;
}

/**
 * Runs the check against the store the environment configures (REDIS_URL / PERSISTED_DIR),
 * or returns null when there is none: a checkout that never published anything has nothing to break.
 */
export async function checkConfiguredStore(supergraphSdl: string, environment: NodeJS.ProcessEnv = process.env): Promise<{ store: string; broken: BrokenOperation[] } | null> {
  const configured = storeFromEnv(environment);
  if (!configured.explicit) return null;
  const store = openPersistedStore(configured.options);
  try {
    return { store: configured.description, broken: await checkPublishedOperations(supergraphSdl, store) };
  } finally {
    await store.close();
  }
}
