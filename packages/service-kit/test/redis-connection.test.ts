import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, until, type RedisServer } from '@shop/test-support';
import { openRedis } from '../src/redis-connection.ts';

/**
 * A shutdown waits for every Redis connection's close, so a close must settle whatever state the
 * connection is in, and leave nothing that reconnects (or keeps the process up) afterwards.
 */
describe('closing a Redis connection', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    redis?.resume();
    await redis?.stop();
  });

  const open = () => openRedis(redis.url, { component: 'test', degradesTo: 'nothing', commandTimeoutMs: 200, connectTimeoutMs: 500, probeIntervalMs: 50 });

  it('ends a connection that was lost and re-established', async () => {
    const connection = open();
    await connection.settled();
    await redis.kill();
    await until(() => !connection.isUp(), { timeoutMs: 10_000, what: 'the outage noticed' });
    await redis.start();
    await until(() => connection.isUp(), { timeoutMs: 10_000, what: 'the connection back' });
    await connection.close();
    await until(() => connection.client.status === 'end', { timeoutMs: 10_000, what: 'the connection ended' });
  });

  it('closes a connection while Redis is down, and it does not reconnect', async () => {
    const connection = open();
    await connection.settled();
    await redis.kill();
    await until(() => connection.client.status !== 'ready', { timeoutMs: 10_000, what: 'the connection lost' });
    let connects = 0;
    connection.client.on('connect', () => (connects += 1));
    await connection.close();
    await redis.start();
    // Another connection to the restarted server, opened after the close, connects; the closed one does not.
    const other = open();
    await other.settled();
    expect(other.isUp()).toBe(true);
    await other.close();
    // Longer than the reconnect delays of the first attempts (up to 400 ms): a reconnect would have come by now.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(connects).toBe(0);
  });

  it('ends a connection to a hung Redis (QUIT never answered)', async () => {
    const connection = open();
    await connection.settled();
    redis.pause();
    try {
      await connection.close();
      await until(() => connection.client.status === 'end', { timeoutMs: 10_000, what: 'the connection ended' });
    } finally {
      redis.resume();
    }
  });
});
