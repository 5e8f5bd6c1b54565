import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { unavailable } from '@shop/cli-kit';
import { until } from '@shop/test-support';
import { onCleanup } from './cleanup.ts';

/** One balanced service: a loopback port in front of its replicas' ports. */
export interface Balanced {
  name: string;
  port: number;
  replicas: Array<{ name: string; port: number }>;
}

export interface RunningHaproxy {
  /** `UP`, `DOWN`, `MAINT`, ... of one replica, as the balancer sees it now. */
  state(service: string, replica: string): Promise<string>;
  stop(): Promise<void>;
}

/** haproxy from Debian's package: installed here when missing and this process may (root with apt-get). */
export function findHaproxy(): string {
  const which = () => spawnSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).stdout.trim();
  let path = which();
  if (!path && process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get']).status === 0) {
    spawnSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy'], { stdio: 'inherit' });
    path = which();
  }
  if (!path) throw unavailable('haproxy is not installed (Debian: apt-get install haproxy)');
  return path;
}

/**
 * The balancer's configuration. Health checks on /ready every 500 ms (each may take 3 s: a busy
 * machine answers slowly, and a slow answer is not a dead replica), three failures take a replica
 * out and two successes bring it back: a draining gateway (readiness 503) leaves before it closes
 * its listener. A request whose connection was refused, or closed before any answer, was not
 * processed: it is retried on the other replica (the body is buffered so it can be sent again).
 */
export function haproxyConfig(services: Balanced[], socket: string): string {
  const lines = [
    'global',
    '  maxconn 4096',
    `  stats socket ${socket} mode 600 level admin`,
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout http-keep-alive 10s',
    '  option http-buffer-request',
    '  retries 3',
    '  option redispatch 1',
    '  retry-on conn-failure empty-response',
    '  timeout check 3s',
    '  default-server inter 500ms fastinter 500ms downinter 500ms fall 3 rise 2',
  ];
  for (const service of services) {
    lines.push(
      `frontend ${service.name}`,
      `  bind 127.0.0.1:${service.port}`,
      `  default_backend ${service.name}`,
      `backend ${service.name}`,
      '  balance roundrobin',
      '  option httpchk',
      '  http-check send meth GET uri /ready',
      '  http-check expect status 200',
      ...service.replicas.map((replica) => `  server ${replica.name} 127.0.0.1:${replica.port} check`),
    );
  }
  return `${lines.join('\n')}\n`;
}

export async function startHaproxy(binary: string, services: Balanced[], dir: string): Promise<RunningHaproxy> {
  const socket = join(dir, 'haproxy.sock');
  const config = join(dir, 'haproxy.cfg');
  await writeFile(config, haproxyConfig(services, socket));
  const check = spawnSync(binary, ['-c', '-f', config], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy refused its configuration:\n${check.stdout}${check.stderr}`);
  let output = '';
  // -db: stay in the foreground, so the process is ours to stop.
  const child: ChildProcess = spawn(binary, ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  onCleanup('haproxy', stop);
  const command = (text: string) =>
    new Promise<string>((resolve, reject) => {
      let answer = '';
      const connection = createConnection(socket);
      connection.on('connect', () => connection.end(`${text}\n`));
      connection.on('data', (chunk) => (answer += chunk.toString()));
      connection.on('end', () => resolve(answer));
      connection.on('error', reject);
    });
  await until(
    async () => {
      if (child.exitCode !== null) throw new Error(`haproxy exited ${child.exitCode}: ${output}`);
      return (await command('show info').catch(() => '')).includes('Name: HAProxy');
    },
    { timeoutMs: 10_000, intervalMs: 100, what: 'haproxy answering on its stats socket' },
  );
  return {
    async state(service, replica) {
      // `show stat` CSV: pxname, svname, ..., status (column 18).
      const csv = await command('show stat');
      const header = csv.split('\n')[0]!.replace(/^# /, '').split(',');
      const status = header.indexOf('status');
      const row = csv.split('\n').find((line) => line.startsWith(`${service},${replica},`));
      return row?.split(',')[status] ?? 'missing';
    },
    stop,
  };
}
