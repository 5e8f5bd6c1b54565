import { existsSync } from 'node:fs';
import { z } from 'zod';
import { env, loadConfig } from '@shop/service-kit';
import { DEFAULT_PERSISTED_DIR } from '../config.ts';
import { createFileStore } from './file-store.ts';
import { createRedisStore, DEFAULT_REDIS_PREFIX, type RedisStoreOptions } from './redis-store.ts';
import type { PersistedStore } from './types.ts';

export interface OpenStoreOptions {
  /** Redis shared by every replica; when absent, `dir` on this machine. */
  redisUrl?: string;
  dir: string;
  redisPrefix?: string;
  logger?: RedisStoreOptions['logger'];
  commandTimeoutMs?: number | undefined;
  connectTimeoutMs?: number | undefined;
}

export function openPersistedStore(options: OpenStoreOptions): PersistedStore {
  if (options.redisUrl) {
    const { redisPrefix: prefix, logger, commandTimeoutMs, connectTimeoutMs } = options;
    return createRedisStore(options.redisUrl, { prefix, logger, commandTimeoutMs, connectTimeoutMs });
  }
  return createFileStore(options.dir);
}

/** The variables the command-line tools read to find the store (the gateway reads the same ones). */
export const storeEnv = z.object({
  REDIS_URL: env.redisUrl().optional(),
  PERSISTED_DIR: z.string().min(1).optional(),
  /** Key prefix in Redis; lets tests and several environments share one Redis. */
  PQ_REDIS_PREFIX: z.string().regex(/^\S{1,100}$/, 'expected 1-100 characters without spaces, e.g. "shop:pq:"').optional(),
});

export interface ConfiguredStore {
  options: OpenStoreOptions;
  /** Whether the environment names a store, or the default directory exists (a store was used before). */
  explicit: boolean;
  description: string;
}

/** Reads the store settings from the environment; throws ConfigError (exit 78 in the CLIs) when they are invalid. */
export function storeFromEnv(environment: NodeJS.ProcessEnv = process.env): ConfiguredStore {
  return configuredStore(loadConfig(storeEnv, environment));
}

/** The same, from variables a caller already validated with a schema that extends `storeEnv`. */
export function configuredStore(env: z.infer<typeof storeEnv>): ConfiguredStore {
  const dir = env.PERSISTED_DIR ?? DEFAULT_PERSISTED_DIR;
  return {
    options: { redisUrl: env.REDIS_URL, dir, redisPrefix: env.PQ_REDIS_PREFIX },
    explicit: Boolean(env.REDIS_URL || env.PERSISTED_DIR || existsSync(DEFAULT_PERSISTED_DIR)),
    description: env.REDIS_URL ? `Redis ${new URL(env.REDIS_URL).host} (prefix ${env.PQ_REDIS_PREFIX ?? DEFAULT_REDIS_PREFIX})` : dir,
  };
}
