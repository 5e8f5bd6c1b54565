import { LRUCache } from 'lru-cache';
import type { RedisConnection } from '@shop/service-kit';

/** A stored answer: what the HTTP layer writes back, byte for byte. */
export interface StoredResponse {
  status: number;
  headers: Array<[string, string]>;
  body: string;
}

export interface ResponseStore {
  get(key: string): Promise<StoredResponse | undefined>;
  set(key: string, value: StoredResponse, ttlSeconds: number): Promise<void>;
  close(): Promise<void>;
}

/** In this process only: fastest, but each worker and replica has its own. */
export function memoryStore(maxBytes: number): ResponseStore {
  const cache = new LRUCache<string, StoredResponse>({
    maxSize: maxBytes,
    sizeCalculation: (value, key) => value.body.length + key.length + 256,
  });
  return {
    get: async (key) => cache.get(key),
    set: async (key, value, ttlSeconds) => {
      cache.set(key, value, { ttl: ttlSeconds * 1000 });
    },
    close: async () => cache.clear(),
  };
}

/**
 * Redis, shared by every worker and replica. The value is the head as JSON, a newline, then the
 * body as sent: the body is stored once, not escaped into a JSON string. While Redis is
 * unavailable the cache is passed through: every lookup a miss, every write skipped.
 */
export function redisStore(redis: RedisConnection): ResponseStore {
  return {
    async get(key) {
      const raw = await redis.attempt((client) => client.get(key), () => null);
      if (raw === null) return undefined;
      const newline = raw.indexOf('\n');
      const head = JSON.parse(raw.slice(0, newline)) as Omit<StoredResponse, 'body'>;
      return { ...head, body: raw.slice(newline + 1) };
    },
    async set(key, value, ttlSeconds) {
      const raw = `${JSON.stringify({ status: value.status, headers: value.headers })}\n${value.body}`;
      await redis.attempt((client) => client.set(key, raw, 'EX', ttlSeconds), () => null);
    },
    close: () => redis.close(),
  };
}
