/**
 * The persisted-operations store as other packages use it (the pq CLI, composition checks):
 * clients, published manifests, and the checks a manifest passes before it is published.
 */
export { addClient, generateApiKey, hashApiKey, setClientPolicy, type AddClientOptions, type AddedClient } from './clients.ts';
export { PersistedError, type PersistedErrorCode } from './errors.ts';
export { createFileStore } from './file-store.ts';
export { apiSchemaFromSupergraph, parseManifest, readManifestFile, validateOperations, type OperationFailure } from './manifest.ts';
export { configuredStore, openPersistedStore, storeEnv, storeFromEnv, type ConfiguredStore, type OpenStoreOptions } from './open-store.ts';
export { publishChecked, type PublishRequest, type PublishResult } from './publish.ts';
export { clientNameSchema, issuesOf, manifestNameSchema, policySchema } from './records.ts';
export { createRedisStore, DEFAULT_REDIS_PREFIX, type RedisStoreOptions } from './redis-store.ts';
export type { ClientRecord, DocumentPolicy, PersistedOperation, PersistedQueryManifest, PersistedSnapshot, PersistedStore, PublishedManifest } from './types.ts';
