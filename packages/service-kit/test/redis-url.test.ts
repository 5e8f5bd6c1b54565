import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedisServer, until, type RedisServer } from '@shop/test-support';
import { loadConfig } from '../src/env.ts';
import { openRedis, type RedisConnection } from '../src/redis-connection.ts';
import { parseRedisUrl } from '../src/redis-url.ts';
import { subgraphEnv } from '../src/subgraph.ts';
import { generateStackTrust } from '../src/internal-auth.ts';

describe('REDIS_URL', () => {
  it('is one Redis, or the Sentinels and the master they watch', () => {
    expect(parseRedisUrl('redis://:pw@cache:6379/2')).toEqual({ kind: 'single', url: 'redis://:pw@cache:6379/2', where: 'cache:6379' });
    expect(parseRedisUrl('redis-sentinel://app:s%40cret@s1:26379,10.0.0.2:26380,[::1]:26381/shop-main?db=3&tls=true')).toEqual({
      kind: 'sentinel',
      options: {
        sentinels: [
          { host: 's1', port: 26379 },
          { host: '10.0.0.2', port: 26380 },
          { host: '::1', port: 26381 },
        ],
        name: 'shop-main',
        username: 'app',
        password: 's@cret',
        db: 3,
        tls: {},
        enableTLSForSentinelMode: true,
      },
      where: 's1:26379,10.0.0.2:26380,[::1]:26381 (Sentinel master shop-main)',
    });
  });

  it('refuses what is not one, saying what it expects, at start-up like every variable', () => {
    expect(() => parseRedisUrl('localhost:6379')).toThrow('expected a redis:// or rediss:// URL');
    expect(() => parseRedisUrl('redis-sentinel://s1:26379')).toThrow(/expected redis-sentinel:\/\/sentinel1:26379/);
    expect(() => parseRedisUrl('redis-sentinel://s1/main')).toThrow(/"s1" is not host:port/);
    expect(() => parseRedisUrl('redis-sentinel://s1:26379/main?sentinelPassword=x')).toThrow(/unknown parameter sentinelPassword/);
    const env = { DATABASE_URL: 'postgres://u@h/db', ...generateStackTrust().subgraphEnv('accounts') };
    expect(() => loadConfig(subgraphEnv(4001), { ...env, REDIS_URL: 'redis-sentinel://s1:99999/main' })).toThrow(/REDIS_URL: redis-sentinel: "s1:99999" is not host:port/);
    expect(loadConfig(subgraphEnv(4001), { ...env, REDIS_URL: 'redis-sentinel://s1:26379/main' }).REDIS_URL).toBe('redis-sentinel://s1:26379/main');
  });
});

// A real Sentinel (redis-server --sentinel) watching a master with one replica: connections go to
// the master it names, and follow the new one after a failover.
describe('a Sentinel-managed Redis', () => {
  let dir: string;
  let master: RedisServer;
  let replica: ChildProcess;
  let sentinel: ChildProcess;
  let sentinelPort: number;
  let connection: RedisConnection;
  const spawned = (args: string[]) => {
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    return child;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shop-sentinel-'));
    master = await startRedisServer();
    const replicaPort = await freePort();
    replica = spawned(['--port', String(replicaPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--replicaof', '127.0.0.1', String(master.port)]);
    sentinelPort = await freePort();
    const config = join(dir, 'sentinel.conf');
    await writeFile(
      config,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `sentinel monitor shop-main 127.0.0.1 ${master.port} 1`,
        'sentinel down-after-milliseconds shop-main 1000',
        'sentinel failover-timeout shop-main 5000',
        '',
      ].join('\n'),
    );
    sentinel = spawned([config, '--sentinel']);
    connection = openRedis(`redis-sentinel://127.0.0.1:${sentinelPort}/shop-main`, { component: 'test', degradesTo: 'nothing', commandTimeoutMs: 2000, connectTimeoutMs: 2000 });
    // A failover needs a replica the Sentinel has found (it asks the master every 10 s) and sees in sync.
    const admin = openRedis(`redis://127.0.0.1:${sentinelPort}`, { component: 'test', degradesTo: 'nothing' });
    try {
      await until(
        async () => {
          const replicas = (await admin.run((c) => c.call('SENTINEL', 'REPLICAS', 'shop-main')).catch(() => [])) as string[][];
          return replicas.length === 1 && (replicas[0]![replicas[0]!.indexOf('flags') + 1] ?? '') === 'slave';
        },
        { timeoutMs: 60_000, intervalMs: 250, what: 'the Sentinel knowing the replica' },
      );
    } finally {
      await admin.close();
    }
  });
  afterAll(async () => {
    await connection?.close();
    sentinel?.kill('SIGKILL');
    replica?.kill('SIGKILL');
    await master?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes to the master the Sentinel names, and to the promoted replica after a failover', async () => {
    expect(await connection.run((c) => c.set('shop:sentinel-test', 'before'))).toBe('OK');
    const role = async () => (await connection.run((c) => c.info('replication'))).match(/role:(\w+)/)?.[1];
    expect(await role()).toBe('master');
    const serverPort = async () => ((await connection.run((c) => c.config('GET', 'port'))) as string[])[1];
    expect(await serverPort()).toBe(String(master.port));

    // SENTINEL FAILOVER promotes the replica; ioredis reconnects to the master the Sentinel names now.
    const admin = openRedis(`redis://127.0.0.1:${sentinelPort}`, { component: 'test', degradesTo: 'nothing' });
    try {
      await admin.run((c) => c.call('SENTINEL', 'FAILOVER', 'shop-main'));
    } finally {
      await admin.close();
    }
    await until(
      async () => {
        try {
          return (await serverPort()) !== String(master.port) && (await connection.run((c) => c.set('shop:sentinel-test', 'after'))) === 'OK';
        } catch {
          return false;
        }
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'a write accepted by the promoted master' },
    );
    expect(await role()).toBe('master');
    expect(await connection.run((c) => c.get('shop:sentinel-test'))).toBe('after');
  });
});
