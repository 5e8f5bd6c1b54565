import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SUBGRAPHS } from '@shop/db';
import { BENCHMARK_QUERY, freePort, startOtlpReceiver, SUPERGRAPH_YAML, until, type OtlpReceiver } from '@shop/test-support';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';

let dir: string | undefined;
let child: ChildProcess | undefined;
let group: number | undefined;
let receiver: OtlpReceiver | undefined;
afterAll(async () => {
  await receiver?.close();
  if (child && child.exitCode === null) child.kill('SIGKILL');
  if (group !== undefined) {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The repository's supergraph.yaml in `dir`, moved to free ports so a developer's running stack is not in the way; and the stack's environment. */
async function stackOnFreePorts(dir: string) {
  const ports = await Promise.all(Array.from({ length: SUBGRAPHS.length + 2 }, freePort));
  let yaml = await readFile(SUPERGRAPH_YAML, 'utf8');
  SUBGRAPHS.forEach((_, i) => {
    yaml = yaml.replace(`http://127.0.0.1:${4001 + i}/graphql`, `http://127.0.0.1:${ports[i]}/graphql`);
  });
  yaml = yaml.replaceAll('file: ./', `file: ${repo}`);
  await writeFile(join(dir, 'supergraph.yaml'), yaml);
  const gatewayPort = ports[SUBGRAPHS.length]!;
  const metricsPort = ports[SUBGRAPHS.length + 1]!;
  const env = {
    ...process.env,
    DATABASE_URL: '',
    EMBEDDED_DATA_DIR: join(dir, 'pglite'),
    EMBEDDED_BASE_PORT: '0',
    SUPERGRAPH_CONFIG: join(dir, 'supergraph.yaml'),
    SUPERGRAPH_PATH: join(dir, 'supergraph.graphql'),
    PORT: String(gatewayPort),
    METRICS_PORT: String(metricsPort),
    LOG_LEVEL: 'info',
  };
  return { gatewayPort, metricsPort, env };
}

describe('npm start', () => {
  it('runs the whole supergraph on the embedded database, answers the benchmark query, and stops on SIGTERM', async () => {
    dir = await mkdtemp(join(tmpdir(), 'shop-stack-'));
    const { gatewayPort, metricsPort, env } = await stackOnFreePorts(dir);
    // Stands in for Jaeger's OTLP/HTTP port: every service exports its spans here.
    receiver = await startOtlpReceiver();

    child = spawn(process.execPath, ['--import', 'tsx', 'tools/dev-stack/src/main.ts'], {
      cwd: repo,
      env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));

    await until(
      () => {
        if (child!.exitCode !== null || child!.signalCode !== null) throw new Error(`npm start exited:\n${output}`);
        return output.includes('"msg":"supergraph ready"');
      },
      { timeoutMs: 100_000, intervalMs: 100, what: () => `supergraph ready:\n${output}` },
    );

    const response = await fetch(`http://127.0.0.1:${gatewayPort}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` },
      body: JSON.stringify({ query: BENCHMARK_QUERY }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data?: { users: unknown[]; topProducts: unknown[] }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(body.data!.users.length).toBeGreaterThan(0);
    expect(body.data!.topProducts).toHaveLength(5);

    // The gateway's metrics are on its internal listener, counting that request; not on the public port.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^graphql_requests_total\{[^}]*operation="TestQuery"[^}]*outcome="ok"[^}]*\} 1$/m);
    expect((await fetch(`http://127.0.0.1:${gatewayPort}/metrics`)).status).toBe(404);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toMatch(/draining and shutting down/);

    // Each service flushed its spans on shutdown: the request is one trace across the stack.
    const trace = receiver.spans.filter((span) => span.traceId === TRACE_ID);
    expect(new Set(trace.map((span) => span.service))).toEqual(new Set(['gateway', 'accounts', 'products', 'inventory', 'reviews']));
    const ids = new Set(trace.map((span) => span.spanId));
    expect(trace.filter((span) => !ids.has(span.parentSpanId)).map((span) => span.parentSpanId)).toEqual(['00f067aa0ba902b7']);
    expect(trace.some((span) => span.name.endsWith('db_query') && span.attributes['db.system'] === 'postgresql')).toBe(true);
    expect(trace.some((span) => span.name.startsWith('dataloader.batch '))).toBe(true);
  }, 120_000);

  it('stops on Ctrl-C (SIGINT to its process group) under load: every service drains and exits by itself, none is SIGKILLed', async () => {
    // The first test's directory: its embedded database is seeded already.
    dir ??= await mkdtemp(join(tmpdir(), 'shop-stack-'));
    const { env, gatewayPort } = await stackOnFreePorts(dir);
    // A process group of its own, as a terminal's foreground job: Ctrl-C signals every process in it.
    const launcher = spawn(process.execPath, ['--import', 'tsx', 'tools/dev-stack/src/main.ts'], { cwd: repo, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    group = launcher.pid!;
    let output = '';
    launcher.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    launcher.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => launcher.once('exit', (code, signal) => resolve([code, signal])));
    await until(
      () => {
        if (launcher.exitCode !== null || launcher.signalCode !== null) throw new Error(`npm start exited:\n${output}`);
        return output.includes('"msg":"supergraph ready"');
      },
      { timeoutMs: 100_000, intervalMs: 100, what: () => `supergraph ready:\n${output}` },
    );

    // A bounded load (4 clients, at most 200 requests each, until the stack stops answering): Apollo
    // Server's own signal handlers, racing the services' drain, left subgraphs to the launcher's SIGKILL only under load.
    let answered = 0;
    const load = Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 200; i += 1) {
          try {
            const response = await fetch(`http://127.0.0.1:${gatewayPort}/graphql`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ query: '{ topProducts(first: 3) { upc name inStock reviews { rating author { username } } } }' }),
            });
            await response.arrayBuffer();
            answered += 1;
          } catch {
            return;
          }
        }
      }),
    );
    await until(() => answered >= 40, { timeoutMs: 60_000, what: () => `40 answers under load (${answered})` });

    process.kill(-group, 'SIGINT');
    const [code, signal] = await exited;
    await load;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    const lines = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; service: string; code?: number | null; signal?: string | null });
    // The launcher saw each service exit 0 (by itself, on the signal) and had to kill none.
    const stopped = lines.filter((line) => line.msg === 'service stopped');
    expect(new Set(stopped.map((line) => line.service))).toEqual(new Set([...SUBGRAPHS, 'gateway']));
    expect(stopped.filter((line) => line.code !== 0 || line.signal !== null).map((line) => `${line.service}: ${line.code ?? line.signal}`)).toEqual([]);
    expect(lines.filter((line) => line.msg === 'service did not stop in time: SIGKILL')).toEqual([]);
    // Each service, and the launcher, went through its own shutdown to the end.
    const shutDown = lines.filter((line) => line.msg === 'shut down; exiting').map((line) => line.service);
    expect(new Set(shutDown)).toEqual(new Set([...SUBGRAPHS, 'gateway', 'stack']));
    expect(output).not.toMatch(/shutdown did not finish in time/);
    group = undefined;
  }, 120_000);
});
