import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pidtree from 'pidtree';
import pidusage from 'pidusage';
import { ReportedFailure } from '@shop/cli-kit';
import { freePort, until } from '@shop/test-support';
import type { HostCounts, HostReady, HostReply } from './protocol.ts';
import type { SubgraphSet } from './scenarios.ts';

const TSX = ['--import', 'tsx'];

/** Every process the bench started, so an interrupted or failed run leaves none behind. */
const children = new Set<ChildProcess>();
function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
// Also when the harness itself fails: a crashed run once left its gateways running.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of children) child.kill('SIGKILL');
    process.exit(130);
  });
}

export interface SubgraphHost {
  ready: HostReady;
  counts(): Promise<HostCounts>;
  stop(): Promise<void>;
}

export async function startSubgraphHost(set: SubgraphSet, env: Record<string, string>): Promise<SubgraphHost> {
  const child = track(fork(fileURLToPath(new URL('./subgraph-host.ts', import.meta.url)), [], {
    execArgv: TSX,
    env: { ...process.env, ...env, BENCH_SET: set },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  }));
  const next = () =>
    new Promise<HostReply>((resolve, reject) => {
      // The host reports its own failure (a database not running) in one line; a crash with a stack is a bug.
      const onExit = (code: number | null) =>
        reject(code !== null && code >= 64 && code <= 78 ? new ReportedFailure(`the ${set} subgraph host`, code) : new Error(`the ${set} subgraph host exited (${code})`));
      child.once('exit', onExit);
      child.once('message', (message: HostReply) => {
        child.off('exit', onExit);
        resolve(message);
      });
    });
  const ready = (await next()) as HostReady;
  return {
    ready,
    async counts() {
      const reply = next();
      child.send({ type: 'counts' });
      const { fetches, sql } = (await reply) as HostCounts;
      return { fetches, sql };
    },
    stop: () => stopChild(child, { type: 'stop' }),
  };
}

export interface GatewayProcess {
  url: string;
  pid: number;
  /** How it exited ("code 134", "signal SIGABRT"), or null while it runs. */
  exited(): string | null;
  stop(): Promise<void>;
}

/** `entry` is a bundled gateway (plain JavaScript, as `npm start` runs ours), so no gateway pays for tsx's loader. */
export async function startGatewayProcess(entry: string, env: Record<string, string>, nodeFlags: string[] = []): Promise<GatewayProcess> {
  const port = await freePort();
  const child = track(fork(entry, [], {
    execArgv: nodeFlags,
    // Loopback only: no peer may phone home (@apollo/gateway's usage telemetry and its cloud probes).
    env: { ...process.env, LOG_LEVEL: 'warn', NODE_ENV: 'development', APOLLO_TELEMETRY_DISABLED: 'true', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  }));
  const url = `http://127.0.0.1:${port}/graphql`;
  let exitedHow: string | null = null;
  child.once('exit', (code, signal) => {
    exitedHow = signal ? `signal ${signal}` : `code ${code}`;
  });
  const serves = () =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' }).then(
      (r) => r.ok,
      () => false,
    );
  try {
    await until(
      () => {
        if (exitedHow) throw new Error(`gateway ${entry} exited (${exitedHow}) before serving`);
        return serves();
      },
      { timeoutMs: 60_000, intervalMs: 200, what: `gateway ${entry} serving` },
    );
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return { url, pid: child.pid!, exited: () => exitedHow, stop: () => stopChild(child) };
}

/** SIGTERM (or a stop message), then SIGKILL if the process has not exited within 15 s. */
async function stopChild(child: ChildProcess, message?: object): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  if (message && child.connected) child.send(message);
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

export interface ResourceSample {
  peakRssBytes: number;
  /**
   * Peak proportional set size of the tree (Linux, /proc/<pid>/smaps_rollup; null elsewhere): pages
   * shared by several processes, such as the node binary of a supervising parent and of its child,
   * are counted once in all, as a cgroup's memory limit counts them; RSS counts them in each.
   */
  peakPssBytes: number | null;
  /** CPU time of the process tree over the window, as a percentage of one core. */
  cpuPercent: number;
}

/** Samples a process and its descendants (worker processes) until stopped. */
export function sampleResources(pid: number, intervalMs = 250): { stop(): Promise<ResourceSample> } {
  let peakRss = 0;
  let peakPss: number | null = null;
  const started = performance.now();
  const cpuByPid = new Map<number, { first: number; last: number }>();
  const sample = async () => {
    const pids = await pidtree(pid, { root: true }).catch(() => [pid]);
    const stats = await pidusage(pids).catch(() => ({}) as Record<string, pidusage.Status>);
    let rss = 0;
    // A descendant that exited since pidtree looked has nothing left to count; no reading of the root: not Linux.
    const pss = await Promise.all(pids.map(pssBytes));
    if (pss[pids.indexOf(pid)] != null) peakPss = Math.max(peakPss ?? 0, pss.reduce<number>((sum, bytes) => sum + (bytes ?? 0), 0));
    for (const [key, stat] of Object.entries(stats)) {
      if (!stat) continue;
      rss += stat.memory;
      const seen = cpuByPid.get(Number(key));
      if (seen) seen.last = stat.ctime;
      else cpuByPid.set(Number(key), { first: stat.ctime, last: stat.ctime });
    }
    peakRss = Math.max(peakRss, rss);
  };
  let pending = sample();
  const timer = setInterval(() => {
    pending = pending.then(sample);
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await pending;
      await sample();
      const elapsedMs = performance.now() - started;
      let cpuMs = 0;
      for (const { first, last } of cpuByPid.values()) cpuMs += last - first;
      pidusage.clear();
      return { peakRssBytes: peakRss, peakPssBytes: peakPss, cpuPercent: (cpuMs / elapsedMs) * 100 };
    },
  };
}

/** A process's proportional set size in bytes, or null where /proc does not tell (not Linux, or it has exited). */
async function pssBytes(pid: number): Promise<number | null> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => null);
  const kib = rollup ? /^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] : undefined;
  return kib === undefined ? null : Number(kib) * 1024;
}
