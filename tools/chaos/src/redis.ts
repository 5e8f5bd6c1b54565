import { startRedisServer, type RedisServer } from '@shop/test-support';
import { onCleanup } from './cleanup.ts';

/**
 * A redis-server of this run only (test-support's child process on a free port, nothing
 * persisted), so that killing it under load harms nobody else: the machine's shared Redis on
 * 6379 is never touched. Stopped with the rest of the run, also on Ctrl-C or an error.
 */
export type OwnRedis = RedisServer;

export async function startOwnRedis(): Promise<OwnRedis> {
  const redis = await startRedisServer().catch((error: unknown) => {
    throw new Error(`could not start redis-server (install it with \`apt-get install -y redis-server\`): ${error instanceof Error ? error.message : String(error)}`);
  });
  onCleanup('redis-server', () => redis.stop());
  return redis;
}
