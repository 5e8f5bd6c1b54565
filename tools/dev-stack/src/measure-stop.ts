/**
 * `npm run measure:stop [-- --load <requests>] [--runs <n>] [--data-dir <dir>]`: how long Ctrl-C
 * takes on `npm start`, and whether every service stopped by itself. Starts the real launcher
 * (`npm start`, so the node flags it passes to each service are the real ones) in a process group
 * of its own, on free loopback ports and an embedded database in a temporary directory (seeded
 * once, reused by every run), waits until it is ready, optionally keeps a bounded load running,
 * sends SIGINT to the whole group as a terminal's Ctrl-C does, and prints the time until every
 * process of the group is gone, how each service exited and whether the launcher had to SIGKILL
 * one (its Supervisor logs `service did not stop in time: SIGKILL`). Numbers only: nothing here
 * passes or fails on a time.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { exitOnFailure, usageError } from '@shop/cli-kit';
import { SUBGRAPHS } from '@shop/db';
import { freePort, SUPERGRAPH_YAML, until } from '@shop/test-support';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const MEASURE_USAGE = 'npm run measure:stop [-- --load <requests, 0: idle>] [--runs <1-20>] [--data-dir <dir>]';
const QUERY = '{ topProducts(first: 3) { upc name price inStock reviews { rating author { username } } } }';

exitOnFailure('measure:stop', MEASURE_USAGE);
const { values } = parseArgs({
  options: {
    load: { type: 'string', default: '0' },
    runs: { type: 'string', default: '1' },
    'data-dir': { type: 'string' },
  },
});
const loadRequests = Number(values.load);
const runs = Number(values.runs);
if (!Number.isInteger(loadRequests) || loadRequests < 0 || !Number.isInteger(runs) || runs < 1 || runs > 20) {
  throw usageError(`--load is a whole number (0: idle) and --runs 1 to 20; usage: ${MEASURE_USAGE}`);
}

const dir = await mkdtemp(join(tmpdir(), 'shop-measure-stop-'));
const dataDir = values['data-dir'] ?? join(dir, 'pglite');
let exitCode = 0;
try {
  for (let run = 1; run <= runs; run += 1) {
    const result = await measureOnce();
    console.log(
      [
        `run ${run}/${runs} (${loadRequests > 0 ? `under load: ${result.load.sent} requests sent, ${result.load.ok} answered in full, ${result.load.withErrors} with errors, ${result.load.refused} without an answer` : 'idle'}):`,
        `stopped in ${(result.stopMs / 1000).toFixed(2)} s after SIGINT,`,
        `launcher ${result.launcherExited ? 'exited 0' : 'did NOT log its clean exit'} (npm itself: ${result.npm}),`,
        `SIGKILLed by the launcher: ${result.killed.length === 0 ? 'none' : result.killed.join(', ')}`,
      ].join(' '),
    );
    for (const service of result.services) console.log(`  ${service.service.padEnd(10)} exit ${service.code ?? service.signal} after ${service.stopMs} ms`);
    if (result.killed.length > 0 || !result.launcherExited || result.services.some((service) => service.code !== 0)) exitCode = 1;
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
process.exit(exitCode);

interface ServiceStop {
  service: string;
  code: number | null;
  signal: string | null;
  stopMs: number;
}

async function measureOnce() {
  // The repository's supergraph.yaml, moved to free ports so a developer's running stack is not in the way.
  const ports = await Promise.all(Array.from({ length: SUBGRAPHS.length + 2 }, freePort));
  let yaml = await readFile(SUPERGRAPH_YAML, 'utf8');
  SUBGRAPHS.forEach((_, i) => (yaml = yaml.replace(`http://127.0.0.1:${4001 + i}/graphql`, `http://127.0.0.1:${ports[i]}/graphql`)));
  yaml = yaml.replaceAll('file: ./', `file: ${repo}`);
  await writeFile(join(dir, 'supergraph.yaml'), yaml);
  const gatewayPort = ports[SUBGRAPHS.length]!;

  // `detached`: a process group of its own (npm, the launcher, every service), as a terminal's foreground job is.
  const child = spawn('npm', ['start'], {
    cwd: repo,
    detached: true,
    env: {
      ...process.env,
      DATABASE_URL: '',
      EMBEDDED_DATA_DIR: dataDir,
      EMBEDDED_BASE_PORT: '0',
      SUPERGRAPH_CONFIG: join(dir, 'supergraph.yaml'),
      SUPERGRAPH_PATH: join(dir, 'supergraph.graphql'),
      PORT: String(gatewayPort),
      METRICS_PORT: String(ports[SUBGRAPHS.length + 1]),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const group = child.pid!;
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // npm re-raises the signal its script got once the script has exited: its own exit is "killed by SIGINT".
  const npmExit = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`)));
  // Whatever happens here, nothing of the group outlives this script.
  const killGroup = () => groupAlive(group) && process.kill(-group, 'SIGKILL');
  process.once('exit', killGroup);

  try {
    await until(
      () => {
        if (child.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
        return output.includes('"msg":"supergraph ready"');
      },
      { timeoutMs: 300_000, intervalMs: 200, what: () => `supergraph ready:\n${output.slice(-4000)}` },
    );

    // Ctrl-C stops every service at once (the subgraphs too): answers with errors and refused
    // connections at the end of a load are expected, and counted apart.
    const load = { sent: 0, ok: 0, withErrors: 0, refused: 0 };
    let loading: Promise<unknown> = Promise.resolve();
    if (loadRequests > 0) {
      // 8 clients one request after another, until the stack stops answering or the requests are sent.
      const send = async () => {
        while (load.sent < loadRequests) {
          load.sent += 1;
          try {
            const response = await fetch(`http://127.0.0.1:${gatewayPort}/graphql`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ query: QUERY }),
            });
            const body = (await response.json()) as { errors?: unknown };
            if (response.status === 200 && body.errors === undefined) load.ok += 1;
            else load.withErrors += 1;
          } catch {
            load.refused += 1;
            return;
          }
        }
      };
      loading = Promise.all(Array.from({ length: 8 }, send));
      // Mid-load: a quarter of the requests answered.
      await until(() => load.ok + load.withErrors >= Math.ceil(loadRequests / 4), { timeoutMs: 120_000, what: 'a quarter of the load answered' });
    }

    const signalledAt = performance.now();
    process.kill(-group, 'SIGINT');
    const npm = await npmExit;
    await until(() => !groupAlive(group), { timeoutMs: 60_000, intervalMs: 10, what: 'every process of the group gone' });
    const stopMs = performance.now() - signalledAt;
    await loading;

    const lines = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => {
        try {
          return JSON.parse(line) as { msg?: string; service?: string; code?: number | null; signal?: string | null; stopMs?: number };
        } catch {
          return {};
        }
      });
    return {
      stopMs,
      npm,
      // The launcher's runService logs this line just before process.exit(0).
      launcherExited: lines.some((line) => line.service === 'stack' && line.msg === 'shut down; exiting'),
      load,
      killed: lines.filter((line) => line.msg === 'service did not stop in time: SIGKILL').map((line) => line.service ?? '?'),
      services: lines
        .filter((line) => line.msg === 'service stopped')
        .map((line): ServiceStop => ({ service: line.service ?? '?', code: line.code ?? null, signal: line.signal ?? null, stopMs: line.stopMs ?? -1 })),
    };
  } finally {
    killGroup();
    process.off('exit', killGroup);
  }
}

/** Whether any process of the group is still running. */
function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}
