import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

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
 * body as sent: the body is stored once, not escaped into a JSON string.
 */
export function redisStore(url: string, onError: (error: Error) => void): ResponseStore {
  const redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1, enableAutoPipelining: true });
  redis.on('error', onError);
  return {
    async get(key) {
      const raw = await redis.get(key);
      if (raw === null) return undefined;
      const newline = raw.indexOf('\n');
      const head = JSON.parse(raw.slice(0, newline)) as Omit<StoredResponse, 'body'>;
      return { ...head, body: raw.slice(newline + 1) };
    },
    async set(key, value, ttlSeconds) {
      await redis.set(key, `${JSON.stringify({ status: value.status, headers: value.headers })}\n${value.body}`, 'EX', ttlSeconds);
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
