import type { RedisOptions } from 'ioredis';
import { z } from 'zod';

/**
 * Where Redis is, as one URL, so that a deployment moves from one Redis to a Sentinel-managed set
 * by configuration alone:
 *
 * - `redis://[user:password@]host:port[/db]`, `rediss://...` (TLS): one Redis.
 * - `redis-sentinel://[user:password@]host:port[,host:port...]/<master name>[?db=N&tls=true]`: the
 *   Sentinels to ask; every connection follows the master they name (also after a failover). The
 *   user and password are the Redis servers'; Sentinels without their own password are assumed.
 *
 * Redis Cluster is not offered: the rate limiter's scripts and the persisted store's multi-key
 * commands would need every key of one operation in one hash slot.
 */
export type RedisTarget = { kind: 'single'; url: string; where: string } | { kind: 'sentinel'; options: RedisOptions; where: string };

const SENTINEL = /^redis-sentinel:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?]+)\/([^/?]+)(?:\?(.*))?$/;
const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** The URL as ioredis options; throws an Error saying what is wrong. */
export function parseRedisUrl(url: string): RedisTarget {
  if (/^rediss?:\/\//.test(url)) {
    if (!URL.canParse(url)) throw new Error('expected a redis:// or rediss:// URL');
    const parsed = new URL(url);
    return { kind: 'single', url, where: parsed.host };
  }
  // Kept as it always was for anything else: scripts and people match on it.
  if (!url.startsWith('redis-sentinel://')) throw new Error('expected a redis:// or rediss:// URL');
  const match = SENTINEL.exec(url);
  if (!match) throw new Error('expected redis-sentinel://sentinel1:26379[,sentinel2:26379...]/<master name>');
  const [, user, password, hosts, master, query] = match;
  const sentinels = hosts!.split(',').map((entry) => {
    const address = HOST_PORT.exec(entry.trim());
    const port = Number(address?.[2]);
    if (!address || port < 1 || port > 65535) throw new Error(`redis-sentinel: "${entry}" is not host:port`);
    return { host: address[1]!.replace(/^\[|\]$/g, ''), port };
  });
  const params = new URLSearchParams(query ?? '');
  const unknown = [...params.keys()].filter((key) => key !== 'db' && key !== 'tls');
  if (unknown.length > 0) throw new Error(`redis-sentinel: unknown parameter ${unknown.join(', ')} (db, tls)`);
  const db = params.get('db');
  if (db !== null && !/^\d{1,2}$/.test(db)) throw new Error('redis-sentinel: db must be a database number');
  const tls = params.get('tls');
  if (tls !== null && tls !== 'true' && tls !== 'false') throw new Error('redis-sentinel: tls must be true or false');
  const options: RedisOptions = {
    sentinels,
    name: decodeURIComponent(master!),
    ...(user ? { username: decodeURIComponent(user) } : {}),
    ...(password ? { password: decodeURIComponent(password) } : {}),
    ...(db !== null ? { db: Number(db) } : {}),
    ...(tls === 'true' ? { tls: {}, enableTLSForSentinelMode: true } : {}),
  };
  return { kind: 'sentinel', options, where: `${hosts} (Sentinel master ${options.name})` };
}

/** The REDIS_URL variable of every service: one Redis, or Sentinels and a master name. */
export const redisUrlSchema = () =>
  z.string().superRefine((value, ctx) => {
    try {
      parseRedisUrl(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  });
