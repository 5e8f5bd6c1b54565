import { z } from 'zod';
import { configuredStore, openPersistedStore, storeEnv } from '@shop/gateway/persisted';
import { fileOperationLog, redisOperationLog, type OperationLog } from '@shop/gateway/recording';
import { loadConfig, openRedis, RedisUnavailableError } from '@shop/service-kit';

/** An operation a client depends on: published in a manifest, or seen executing by the gateway. */
export interface ClientOperation {
  source: 'published' | 'recorded';
  client: string;
  operationName: string;
  document: string;
  /** Published: the manifest and the operation's id. */
  manifest?: string;
  id?: string;
  /** Recorded: executions within the retention, and the last one. */
  count?: number;
  lastSeen?: Date;
}

/** The variables schema:check reads: the persisted store's (as `npm run pq`), and the gateway's REDIS_PREFIX for recorded traffic. */
export const checkEnv = storeEnv.extend({
  REDIS_PREFIX: z.string().regex(/^\S{1,100}$/, 'expected 1-100 characters without spaces, e.g. "shop:"').default('shop:'),
  REDIS_CONNECT_TIMEOUT_MS: z.coerce.number({ message: 'expected milliseconds' }).int().min(1).max(60_000).default(2000),
});

export class SourceUnavailableError extends Error {
  override readonly name = 'SourceUnavailableError';
}

export interface OperationSources {
  operations: ClientOperation[];
  /** Where they were read, one line each. */
  sources: string[];
}

/**
 * Every operation clients depend on: each published manifest's operations (the persisted store:
 * Redis, or PERSISTED_DIR), and the documents the gateway recorded executing (same Redis under
 * REDIS_PREFIX + `ops:`, or PERSISTED_DIR/operations.json). Throws SourceUnavailableError when a
 * configured Redis does not answer: a check that silently read nothing would pass every change.
 */
export async function readClientOperations(environment: NodeJS.ProcessEnv, options: { traffic: boolean }): Promise<OperationSources> {
  const env = loadConfig(checkEnv, environment);
  const store = configuredStore({ ...env, PQ_REDIS_PREFIX: env.PQ_REDIS_PREFIX ?? `${env.REDIS_PREFIX}pq:` });
  const operations: ClientOperation[] = [];
  const sources: string[] = [];
  const unavailable = (error: unknown, what: string) =>
    new SourceUnavailableError(
      error instanceof RedisUnavailableError ? `${error.message} Cannot read ${what}; start Redis or unset REDIS_URL.` : `Cannot read ${what}: ${error instanceof Error ? error.message : String(error)}`,
    );

  if (store.explicit) {
    const opened = openPersistedStore({ ...store.options, connectTimeoutMs: env.REDIS_CONNECT_TIMEOUT_MS });
    try {
      const manifests = await opened.listManifests().catch((error: unknown) => {
        throw unavailable(error, `the published manifests in ${store.description}`);
      });
      let count = 0;
      for (const { client, manifest, operations: published } of manifests) {
        for (const op of published) {
          operations.push({ source: 'published', client, manifest, id: op.id, operationName: op.name, document: op.body });
          count += 1;
        }
      }
      sources.push(`${count} published operation(s) in ${store.description}`);
    } finally {
      await opened.close();
    }
  } else {
    sources.push('no published operations (no REDIS_URL or PERSISTED_DIR, and no .data/persisted)');
  }

  if (options.traffic && (env.REDIS_URL || store.explicit)) {
    const redis = env.REDIS_URL
      ? openRedis(env.REDIS_URL, { component: 'schema_check', degradesTo: 'fails', connectTimeoutMs: env.REDIS_CONNECT_TIMEOUT_MS })
      : null;
    const log: OperationLog = redis ? redisOperationLog(redis, `${env.REDIS_PREFIX}ops:`) : fileOperationLog(store.options.dir);
    try {
      const recorded = await log.list().catch((error: unknown) => {
        throw unavailable(error, `the recorded operations in ${log.description}`);
      });
      for (const op of recorded) {
        for (const use of op.clients) {
          operations.push({
            source: 'recorded',
            client: use.client,
            operationName: op.operationName ?? `(anonymous ${op.documentHash.slice(0, 12)})`,
            document: op.document,
            id: op.documentHash,
            count: use.count,
            lastSeen: new Date(use.lastSeen),
          });
        }
      }
      sources.push(`${recorded.length} recorded document(s) in ${log.description}`);
    } finally {
      await redis?.close();
    }
  } else if (options.traffic) {
    sources.push('no recorded traffic (no REDIS_URL or PERSISTED_DIR)');
  }
  return { operations, sources };
}
