import { z } from 'zod';
import { PersistedError, type PersistedErrorCode } from './errors.ts';
import type { ClientRecord, PersistedOperation, PersistedSnapshot, PublishedManifest } from './types.ts';

/**
 * The shapes both stores accept and read back. Names become Redis hash fields and file
 * names, so they are restricted to characters that are safe in both; lower case only, so
 * `Acme` and `acme` cannot become two clients that share a directory on a case-insensitive disk.
 */
export const clientNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a client name is 1-64 lower case letters, digits, "-" or "_", starting with a letter or digit');

export const manifestNameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,127}$/,
    'a manifest name is 1-128 lower case letters, digits, ".", "-" or "_", starting with a letter or digit (pass --name to choose one)',
  );

export const policySchema = z.enum(['enforce', 'log', 'off'], { message: 'policy must be one of enforce, log, off' });

export const clientRecordSchema = z.object({
  name: clientNameSchema,
  policy: policySchema,
  apiKeyHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'apiKeyHash must be the sha256 hex digest of the key (64 lower case hex digits), never the key')
    .nullable(),
  createdAt: z.iso.datetime({ message: 'createdAt must be an ISO 8601 date-time' }),
});

export const operationSchema = z.object({
  id: z.string().min(1, 'id must be a non-empty string'),
  name: z.string().min(1, 'name must be a non-empty string'),
  type: z.enum(['query', 'mutation', 'subscription'], { message: 'type must be one of query, mutation, subscription' }),
  body: z.string().min(1, 'body must be a non-empty GraphQL document'),
});

export const operationsSchema = z.array(operationSchema);

/** `['operations', 3, 'body']` -> `operations[3].body`, the way a person reads a JSON path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out || '(root)';
}

export function issuesOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
}

/** Validates an input of a public function, throwing a PersistedError with every problem. */
export function validated<T extends z.ZodType>(schema: T, value: unknown, code: PersistedErrorCode, what: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new PersistedError(code, `Invalid ${what}:`, issuesOf(result.error));
  return result.data;
}

/** Parses a value read back from storage; a failure means someone edited the store by hand or a bug wrote it. */
export function parseStored<T extends z.ZodType>(schema: T, text: string, where: string): z.infer<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new PersistedError('STORE_CORRUPT', `${where} is not valid JSON (${(error as Error).message}); restore it or publish again.`);
  }
  const result = schema.safeParse(raw);
  if (!result.success) throw new PersistedError('STORE_CORRUPT', `${where} does not hold what the store wrote; restore it or publish again:`, issuesOf(result.error));
  return result.data;
}

/**
 * Merges every manifest of a client into one id -> operation map. Manifests are applied in
 * name order so the result does not depend on storage iteration order; ids are content
 * hashes, so an id in two manifests normally carries the same body anyway.
 */
export function buildSnapshot(clients: Iterable<ClientRecord>, manifests: Iterable<PublishedManifest>): PersistedSnapshot {
  const snapshot: PersistedSnapshot = { clientsByName: new Map(), clientsByKeyHash: new Map(), operations: new Map() };
  for (const client of clients) {
    snapshot.clientsByName.set(client.name, client);
    if (client.apiKeyHash) snapshot.clientsByKeyHash.set(client.apiKeyHash, client);
    snapshot.operations.set(client.name, new Map());
  }
  const sorted = [...manifests].sort((a, b) => (a.manifest < b.manifest ? -1 : a.manifest > b.manifest ? 1 : 0));
  for (const { client, operations } of sorted) {
    // Manifests of a client that is no longer registered cannot be used by anyone.
    const byId = snapshot.operations.get(client);
    if (!byId) continue;
    for (const operation of operations) byId.set(operation.id, operation);
  }
  return snapshot;
}

/** Validates the arguments of `PersistedStore.publishManifest`, shared by both stores. */
export function validatePublish(clientName: string, manifestName: string, operations: PersistedOperation[]) {
  return {
    client: validated(clientNameSchema, clientName, 'INVALID_CLIENT_NAME', 'client name'),
    manifest: validated(manifestNameSchema, manifestName, 'INVALID_MANIFEST_NAME', 'manifest name'),
    operations: validated(operationsSchema, operations, 'INVALID_OPERATIONS', 'operations'),
  };
}
