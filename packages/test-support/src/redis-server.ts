import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { freePort } from './ports.ts';
import { until } from './waiting.ts';

/**
 * A redis-server of its own, as a child process on a free loopback port, for tests and tools that
 * inject Redis faults: the machine's shared Redis (6379) is never stopped, other runs use it.
 * No persistence: a restart starts empty, like a cache node replaced.
 */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGKILL: connections are cut, new ones refused until `start()`. */
  kill(): Promise<void>;
  /** SIGSTOP: connections stay open and nothing is answered (a hung server) until `resume()`. */
  pause(): void;
  resume(): void;
  /** Starts it again on the same port (after `kill()`), empty. */
  start(): Promise<void>;
  /** Kills it for good (also when paused). */
  stop(): Promise<void>;
}

export async function startRedisServer(options: { port?: number; command?: string } = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const command = options.command ?? 'redis-server';
  let child: ChildProcess | null = null;
  let output = '';

  const start = async () => {
    if (child) throw new Error(`redis-server on port ${port} is already running`);
    output = '';
    const started = spawn(command, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    started.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.once('exit', () => {
      if (child === started) child = null;
    });
    await until(
      async () => {
        if (child !== started) throw new Error(`redis-server on port ${port} exited at start:\n${output}`);
        return ping(port);
      },
      { timeoutMs: 10_000, what: () => `redis-server answering PING on port ${port}:\n${output}` },
    );
  };

  const kill = async () => {
    const running = child;
    if (!running) return;
    const exited = once(running, 'exit');
    running.kill('SIGKILL');
    await exited;
  };

  await start();
  // A test that fails half-way must not leave a server behind (nor a stopped one).
  const onExit = () => child?.kill('SIGKILL');
  process.once('exit', onExit);

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    start,
    async stop() {
      process.off('exit', onExit);
      await kill();
    },
  };
}

/** Whether a Redis on `port` answers PING now (a plain socket: no client library retrying for us). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
