import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import type { RedisConnection } from '@shop/service-kit';

/**
 * Apollo's KeyValueCache over Redis, for automatic persisted queries: a document registered
 * through one replica is found by every other. Written here because Apollo's Keyv adapter
 * would add two packages for three commands.
 * While Redis is unavailable a lookup is a miss and a write is skipped: Apollo then answers
 * PERSISTED_QUERY_NOT_FOUND and the client sends the full query, which is served as usual.
 */
export class RedisKeyValueCache implements KeyValueCache<string> {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly defaultTtlSeconds: number,
  ) {}

  async get(key: string): Promise<string | undefined> {
    return this.redis.attempt(async (client) => (await client.get(this.prefix + key)) ?? undefined, () => undefined);
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    const ttl = options?.ttl ?? this.defaultTtlSeconds;
    await this.redis.attempt(
      async (client) => {
        if (ttl) await client.set(this.prefix + key, value, 'EX', Math.max(1, Math.round(ttl)));
        else await client.set(this.prefix + key, value);
      },
      () => {},
    );
  }

  async delete(key: string): Promise<boolean> {
    return this.redis.attempt(async (client) => (await client.del(this.prefix + key)) > 0, () => false);
  }
}
