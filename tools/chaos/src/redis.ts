import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { freePort, until } from '@shop/test-support';
import { onCleanup } from './cleanup.ts';
import { run } from './exec.ts';

/**
 * A redis-server of this run only (a child process on a free port, nothing persisted), so that
 * killing it under load harms nobody else: the machine's shared Redis on 6379 is never touched.
 */
export interface OwnRedis {
  url: string;
  /** SIGKILL: Redis gone as in a crash, its connections reset. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: nothing was persisted). */
  start(): Promise<void>;
}

export async function startOwnRedis(): Promise<OwnRedis> {
  await run('redis-server', ['--version']).catch(() => {
    throw new Error('redis-server not found: install it (`apt-get install -y redis-server`).');
  });
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const started = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child = started;
    await until(
      async () => {
        if (started.exitCode !== null) throw new Error(`redis-server exited (${started.exitCode}) on start`);
        return ping(port);
      },
      { timeoutMs: 10_000, intervalMs: 50, what: `redis-server on port ${port}` },
    );
  };
  const kill = async () => {
    const current = child;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    const exited = once(current, 'exit');
    current.kill('SIGKILL');
    await exited;
  };
  await start();
  onCleanup('redis-server', kill);
  return { url: `redis://127.0.0.1:${port}`, kill, start };
}

/** True when a Redis on `port` answers PING. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}
