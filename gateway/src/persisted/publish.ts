import type { GraphQLSchema } from 'graphql';
import { PersistedError } from './errors.ts';
import { validateOperations, type OperationFailure } from './manifest.ts';
import { clientNameSchema, manifestNameSchema, validated } from './records.ts';
import type { PersistedOperation, PersistedStore } from './types.ts';

export interface PublishRequest {
  client: string;
  manifest: string;
  operations: PersistedOperation[];
}

export type PublishResult = { published: true; operations: number } | { published: false; failures: OperationFailure[] };

/**
 * Publishes a manifest only if every operation is valid against `apiSchema` and no id
 * already stands for a different body in another of the client's manifests (the gateway
 * merges them, so one would silently replace the other). All or nothing: a partner's
 * release either works completely or is not published.
 */
export async function publishChecked(store: PersistedStore, apiSchema: GraphQLSchema, request: PublishRequest): Promise<PublishResult> {
  const client = validated(clientNameSchema, request.client, 'INVALID_CLIENT_NAME', 'client name');
  const manifest = validated(manifestNameSchema, request.manifest, 'INVALID_MANIFEST_NAME', 'manifest name');
  if (!(await store.load()).clientsByName.has(client)) {
    throw new PersistedError('UNKNOWN_CLIENT', `No client named "${client}"; create it first with \`npm run pq -- clients add ${client}\`.`);
  }

  const failures = new Map(validateOperations(apiSchema, request.operations).map((f) => [f.index, f]));
  const elsewhere = new Map<string, { manifest: string; body: string }>();
  for (const other of await store.listManifests()) {
    if (other.client !== client || other.manifest === manifest) continue;
    for (const operation of other.operations) elsewhere.set(operation.id, { manifest: other.manifest, body: operation.body });
  }
  request.operations.forEach((operation, index) => {
    const previous = elsewhere.get(operation.id);
    if (!previous || previous.body === operation.body) return;
    const failure = failures.get(index) ?? { index, id: operation.id, name: operation.name, messages: [] };
    failure.messages.push(`id ${operation.id} is already published in manifest "${previous.manifest}" with a different body`);
    failures.set(index, failure);
  });
  if (failures.size > 0) return { published: false, failures: [...failures.values()].sort((a, b) => a.index - b.index) };

  await store.publishManifest(client, manifest, request.operations);
  return { published: true, operations: request.operations.length };
}
