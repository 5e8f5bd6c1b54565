import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pidtree from 'pidtree';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, until } from '@shop/test-support';
import { startTestStack, type TestStack } from '@shop/test-support/stack';

// The built gateway applies its node flags itself (service-kit's node-flags.ts): `node gateway/dist/main.js`
// with no flags must end up serving from a process that has the heap cap, as `npm start` runs it.

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BUILT = join(REPO, 'gateway', 'dist', 'main.js');
/** Node >= 22.15 replaces the process (same pid); older Node leaves a supervising parent. */
const REPLACES_ITSELF = typeof (process as unknown as { execve?: unknown }).execve === 'function';

let stack: TestStack;
const children: ChildProcess[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  // What `npm run build` runs for the gateway's bundle.
  await run(process.execPath, ['--import', 'tsx', 'tools/dev-stack/src/bundle-cli.ts', 'gateway'], { cwd: REPO });
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await stack?.stop();
});

const argvOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);

async function startBuilt(nodeArgs: string[], extra: Record<string, string> = {}) {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [...nodeArgs, BUILT], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: 'off',
      SUPERGRAPH_PATH: stack.supergraphPath,
      PERSISTED_DIR: join(stack.persistedDir, `node-flags-${port}`),
      OTEL_TRACES_EXPORTER: 'none',
      LOG_LEVEL: 'warn',
      ...stack.trust.gatewayEnv,
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const ready = () =>
    until(
      async () => {
        if (child.exitCode !== null) throw new Error(`the built gateway exited ${child.exitCode}:\n${output}`);
        return (await fetch(`${url}/ready`).catch(() => null))?.status === 200;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: () => `the built gateway ready:\n${output}` },
    );
  return { child, url, ready, output: () => output };
}

/** The processes under the one started (its own pid excluded). */
const descendants = (pid: number) => pidtree(pid);

describe('node gateway/dist/main.js applies its node flags itself', () => {
  it('started without flags, it serves from a process with the heap cap, and stops with the exit code of the service', async () => {
    const gateway = await startBuilt([]);
    await gateway.ready();
    const below = await descendants(gateway.child.pid!);
    const serving = REPLACES_ITSELF ? gateway.child.pid! : below[0]!;
    expect(below).toHaveLength(REPLACES_ITSELF ? 0 : 1);
    expect(argvOf(serving)).toContain('--max-old-space-size=192');
    expect(argvOf(serving)).toContain(BUILT);
    const answer = await fetch(`${gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    expect(await answer.json()).toEqual({ data: { __typename: 'Query' } });

    // SIGTERM to the pid an orchestrator knows: passed on, the service drains and exits 0, and so does the parent.
    const exited = once(gateway.child, 'exit');
    gateway.child.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
    expect(gateway.output()).not.toMatch(/shutdown did not finish/);
  });

  it('keeps flags given on the command line (the operator wins) and has nothing to re-exec', async () => {
    const gateway = await startBuilt(['--max-old-space-size=256', '--max-semi-space-size=8']);
    await gateway.ready();
    expect(await descendants(gateway.child.pid!)).toHaveLength(0);
    expect(argvOf(gateway.child.pid!)).toEqual(expect.arrayContaining(['--max-old-space-size=256', '--max-semi-space-size=8']));
    expect(argvOf(gateway.child.pid!)).not.toContain('--max-old-space-size=192');
    expect(argvOf(gateway.child.pid!)).not.toContain('--max-semi-space-size=32');
    gateway.child.kill('SIGKILL');
  });

  it.runIf(!REPLACES_ITSELF)('a supervising parent ends the way its child ended', async () => {
    const gateway = await startBuilt([], { GATEWAY_SEMI_SPACE_MB: '4' });
    await gateway.ready();
    const [serving] = await descendants(gateway.child.pid!);
    expect(argvOf(serving!)).toEqual(expect.arrayContaining(['--max-old-space-size=192', '--max-semi-space-size=4']));
    const exited = once(gateway.child, 'exit');
    process.kill(serving!, 'SIGKILL');
    expect(await exited).toEqual([null, 'SIGKILL']);
  });

  it.runIf(!REPLACES_ITSELF)('a supervised gateway whose supervisor was SIGKILLed drains and stops by itself', async () => {
    const gateway = await startBuilt([]);
    await gateway.ready();
    const [serving] = await descendants(gateway.child.pid!);
    const exited = once(gateway.child, 'exit');
    gateway.child.kill('SIGKILL');
    await exited;
    await until(() => !existsSync(`/proc/${serving!}`), { timeoutMs: 60_000, intervalMs: 200, what: `the orphaned gateway ${serving} stopping` });
    expect(gateway.output()).toMatch(/gateway: its supervising process \d+ is gone; stopping/);
  });

  it('refuses a heap cap too small to hold the supergraph: exit 78, naming the variable', async () => {
    const gateway = await startBuilt([], { GATEWAY_HEAP_MB: '16' });
    const [code] = (await once(gateway.child, 'exit')) as [number | null];
    expect(code).toBe(78);
    expect(gateway.output()).toMatch(/gateway: Invalid configuration:\n {2}- GATEWAY_HEAP_MB: expected 0 \(V8 default\) or at least 64 MiB/);
  });
});
