import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '@shop/observability';
import { env, openRedis } from '@shop/service-kit';
import { PersistedError } from './errors.ts';
import { buildSnapshot, clientRecordSchema, operationsSchema, parseStored, validated, validatePublish } from './records.ts';
import type { ClientRecord, PersistedStore, PublishedManifest } from './types.ts';

export interface RedisStoreOptions {
  /** Key prefix, so several environments (or test runs) can share one Redis. Default `shop:pq:`. */
  prefix?: string;
  /** How often `watch` reads the version, in case a pub/sub message was lost. Default 3000 ms. */
  pollIntervalMs?: number;
  /** Where an outage of Redis is told (once when it starts, once when it ends); silent without. */
  logger?: Logger | undefined;
  /** See REDIS_COMMAND_TIMEOUT_MS and REDIS_CONNECT_TIMEOUT_MS. */
  commandTimeoutMs?: number | undefined;
  connectTimeoutMs?: number | undefined;
}

export const DEFAULT_REDIS_PREFIX = 'shop:pq:';

const optionsSchema = z.object({
  redisUrl: env.redisUrl(),
  prefix: z.string().regex(/^\S{1,100}$/, 'expected 1-100 characters without spaces, e.g. "shop:pq:"').default(DEFAULT_REDIS_PREFIX),
  pollIntervalMs: z.number().int().min(50).max(600_000).default(3000),
});

/**
 * Layout under the prefix:
 *   clients    hash  client name -> JSON ClientRecord
 *   manifests  hash  "<client>/<manifest>" -> JSON operations array
 *   version    counter, INCRed by every change
 *   stamp      a random id written by every change: a Redis that lost its data and was written
 *              again can reach the version seen before, never the stamp
 *   changed    pub/sub channel, carries "<version>:<stamp>" of each change
 * All manifests live in one hash (rather than one hash per client) so `load` reads clients,
 * manifests and version in a single MULTI: a snapshot never mixes two publishes.
 */
export function createRedisStore(redisUrl: string, options: RedisStoreOptions = {}): PersistedStore {
  const { prefix, pollIntervalMs } = validated(
    optionsSchema,
    { redisUrl, prefix: options.prefix, pollIntervalMs: options.pollIntervalMs },
    'INVALID_STORE_OPTIONS',
    'Redis store options',
  );
  const keys = { clients: `${prefix}clients`, manifests: `${prefix}manifests`, version: `${prefix}version`, stamp: `${prefix}stamp`, channel: `${prefix}changed` };
  const connection = {
    logger: options.logger,
    commandTimeoutMs: options.commandTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs,
  };
  // Writes and loads wait for a first connection (a command-line tool starts with none), then fail
  // within the timeouts when Redis is away: a reload that fails keeps the previous snapshot.
  const redis = openRedis(redisUrl, { ...connection, component: 'persisted', degradesTo: 'keeps serving the last loaded clients and manifests' });
  const stops = new Set<() => void>();
  /** Closes of the subscriber connections of stopped watches (bounded, see openRedis). */
  const subscribers = new Set<Promise<void>>();
  /** Version of the data the last `load` returned, so `watch` started after it misses nothing. */
  let loadedVersion: number | null = null;
  let loadedStamp: string | null = null;
  /** The manifests last loaded (raw fields), and those loaded before Redis lost its data, once it has. */
  let loadedManifests: Record<string, string> = {};
  let manifestsBeforeLoss: Record<string, string> | null = null;

  async function exec(multi: ReturnType<Redis['multi']>): Promise<unknown[]> {
    const replies = await multi.exec();
    if (!replies) throw new Error('Redis transaction was aborted');
    return replies.map(([error, value]) => {
      if (error) throw error;
      return value;
    });
  }

  /**
   * After Redis lost its data, clients and manifests are published again one change at a time
   * (`npm run pq`: the client, then its manifest). A client that is back but whose manifests are
   * not yet keeps the manifests loaded before the loss, so its calls are not refused in between.
   * Only manifests: a client that is not published again stays gone (a revoked key is not revived).
   */
  function withManifestsBeforeLoss(clients: Record<string, string>, manifests: Record<string, string>): Record<string, string> {
    if (!manifestsBeforeLoss) return manifests;
    const clientOf = (field: string) => field.slice(0, field.indexOf('/'));
    const republished = new Set(Object.keys(manifests).map(clientOf));
    const kept = Object.entries(manifestsBeforeLoss).filter(([field]) => {
      const client = clientOf(field);
      return client in clients && !republished.has(client);
    });
    return { ...manifests, ...Object.fromEntries(kept) };
  }

  /** Every change bumps the version in the same transaction as the write, then tells the other replicas. */
  async function commit(write: (client: Redis) => ReturnType<Redis['multi']>): Promise<void> {
    await redis.run(async (client) => {
      const stamp = randomUUID();
      const replies = await exec(write(client).incr(keys.version).set(keys.stamp, stamp));
      await client.publish(keys.channel, `${String(replies.at(-2))}:${stamp}`);
    });
  }

  function parseManifests(raw: Record<string, string>): PublishedManifest[] {
    return Object.entries(raw).map(([field, json]) => {
      const slash = field.indexOf('/');
      const where = `Redis ${keys.manifests} field ${JSON.stringify(field)}`;
      if (slash < 1) throw new PersistedError('STORE_CORRUPT', `${where} is not "<client>/<manifest>"; remove it.`);
      return { client: field.slice(0, slash), manifest: field.slice(slash + 1), operations: parseStored(operationsSchema, json, where) };
    });
  }

  /** The version (0 when there is none) and stamp, or undefined while Redis is unavailable (a poll skipped and counted). */
  const readVersion = () =>
    redis.attempt(
      async (client) => {
        const [version, stamp] = await client.mget(keys.version, keys.stamp);
        return { version: Number(version ?? 0), stamp: stamp ?? null };
      },
      () => undefined,
    );

  return {
    health: redis,

    async load() {
      const [version, clients, manifests, stamp] = (await redis.run((client) =>
        exec(client.multi().get(keys.version).hgetall(keys.clients).hgetall(keys.manifests).get(keys.stamp)),
      )) as [string | null, Record<string, string>, Record<string, string>, string | null];
      // The version only grows, and a change always writes a new stamp: lower, or the same with another stamp, is a Redis that lost its data.
      const lost =
        loadedVersion !== null && loadedVersion > 0 && (version === null || Number(version) < loadedVersion || (Number(version) === loadedVersion && stamp !== loadedStamp));
      if (lost) manifestsBeforeLoss ??= loadedManifests;
      if (version === null && loadedVersion !== null && loadedVersion > 0) {
        // Every change bumps the version, so data once loaded cannot lose it by being unpublished:
        // this Redis restarted without persistence or was flushed. Serving nothing would refuse
        // every registered client; the previous snapshot stays until something is published again.
        throw new PersistedError(
          'STORE_EMPTY',
          `Redis ${keys.version} is gone (it was ${loadedVersion}): Redis lost its data. Keeping the clients and manifests loaded before; publish them again (npm run pq).`,
        );
      }
      const records = Object.entries(clients).map(([name, json]) => parseStored(clientRecordSchema, json, `Redis ${keys.clients} field ${JSON.stringify(name)}`));
      const snapshot = buildSnapshot(records, parseManifests(withManifestsBeforeLoss(clients, manifests)));
      loadedVersion = Number(version ?? 0);
      loadedStamp = stamp;
      loadedManifests = manifests;
      return snapshot;
    },

    async putClient(client: ClientRecord) {
      const record = validated(clientRecordSchema, client, 'INVALID_CLIENT', 'client record');
      await commit((client) => client.multi().hset(keys.clients, record.name, JSON.stringify(record)));
    },

    async publishManifest(clientName, manifestName, operations) {
      const input = validatePublish(clientName, manifestName, operations);
      if (!(await redis.run((client) => client.hexists(keys.clients, input.client)))) {
        throw new PersistedError('UNKNOWN_CLIENT', `No client named "${input.client}"; create it first with \`npm run pq -- clients add ${input.client}\`.`);
      }
      await commit((client) => client.multi().hset(keys.manifests, `${input.client}/${input.manifest}`, JSON.stringify(input.operations)));
    },

    async listManifests() {
      return parseManifests(await redis.run((client) => client.hgetall(keys.manifests)));
    },

    watch(onChange) {
      let seen = loadedVersion;
      let seenStamp = loadedStamp;
      let stopped = false;
      let polling = false;
      const changed = (version: number, stamp: string | null, fromMessage: boolean) => {
        if (stopped) return;
        if (seen === null) {
          // watch() before any load(): the first poll is only a baseline, but a message is a
          // change that happened after watch() began (an extra reload is harmless, a missed one is not).
          seen = version;
          seenStamp = stamp;
          if (fromMessage) onChange();
          return;
        }
        // A late pub/sub message may carry an older version than a poll already saw. A poll seeing
        // any other version or stamp is a change: after Redis lost its data and was written again,
        // the version may be back where it was, the stamp is not.
        if (fromMessage ? version > seen : version !== seen || stamp !== seenStamp) {
          seen = version;
          seenStamp = stamp;
          onChange();
        }
      };
      const poll = () => {
        if (polling || stopped) return;
        polling = true;
        readVersion()
          .then((read) => read !== undefined && changed(read.version, read.stamp, false))
          .finally(() => (polling = false));
      };

      // Pub/sub for promptness; the poll for messages lost while the subscriber was reconnecting.
      // Its outages are the main connection's too, told there.
      const subscriber = openRedis(redisUrl, { ...connection, logger: undefined, component: 'persisted_subscriber', degradesTo: 'waits' });
      subscriber.client.on('message', (channel: string, message: string) => {
        const parsed = channel === keys.channel ? /^(\d+):(\S+)$/.exec(message) : null;
        if (parsed) changed(Number(parsed[1]), parsed[2]!, true);
      });
      // 'ready' follows the first connection and every reconnect: (re)subscribe, and catch up at
      // once instead of waiting for the next poll. Subscribing twice to a channel is harmless.
      subscriber.client.on('ready', () => {
        subscriber.client.subscribe(keys.channel).catch(() => {});
        poll();
      });
      const timer = setInterval(poll, pollIntervalMs);
      timer.unref();

      const stop = () => {
        if (stopped) return;
        stopped = true;
        stops.delete(stop);
        clearInterval(timer);
        subscribers.add(subscriber.close());
      };
      stops.add(stop);
      return stop;
    },

    async close() {
      for (const stop of [...stops]) stop();
      // The subscribers' closes too: a close that returns while one still runs is not the end of the store's connections.
      await Promise.all([redis.close(), ...subscribers]);
    },
  };
}
