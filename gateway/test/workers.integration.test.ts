import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pidtree from 'pidtree';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, tokenFor, until } from '@shop/test-support';
import { startTestStack, type TestStack } from '@shop/test-support/stack';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));

describe('WORKERS=2: the gateway as several processes on one port', () => {
  let stack: TestStack;
  let child: ChildProcess;
  let url: string;
  let metricsUrl: string;
  let output = '';

  beforeAll(async () => {
    stack = await startTestStack();
    const port = await freePort();
    url = `http://127.0.0.1:${port}/graphql`;
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      cwd: REPO,
      env: {
        ...process.env,
        WORKERS: '2',
        PORT: String(port),
        HOST: '127.0.0.1',
        METRICS_PORT: String(metricsPort),
        SUPERGRAPH_PATH: stack.supergraphPath,
        ...stack.trust.gatewayEnv,
        PERSISTED_DIR: join(stack.persistedDir, 'workers'),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // Ready when both workers have logged that they listen.
    await until(
      () => {
        if (child.exitCode !== null) throw new Error(`the gateway exited:\n${output}`);
        return (output.match(/gateway listening/g) ?? []).length >= 2;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: () => `both workers listening:\n${output}` },
    );
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await stack?.stop();
  });

  it('starts the configured number of workers, each of which answers correctly', async () => {
    // The workers are the processes the primary forked (tsx may run esbuild's service as another child).
    const pids = JSON.parse(/"pids":(\[[\d,]*\])/.exec(output)?.[1] ?? '[]') as number[];
    expect(pids).toHaveLength(2);
    const children = await pidtree(child.pid!);
    for (const pid of pids) expect(children).toContain(pid);
    expect(output).toMatch(/"workers":2[^\n]*gateway primary started its workers/);
    const token = await tokenFor(12);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: '{ me { id } topProducts(first: 2) { upc } }' }),
        }).then((r) => r.json() as Promise<{ data: { me: { id: string }; topProducts: unknown[] } }>),
      ),
    );
    for (const answer of answers) {
      expect(answer.data.me.id).toBe('12');
      expect(answer.data.topProducts).toHaveLength(2);
    }
  });

  it('serves every worker\'s metrics combined on the primary\'s metrics port, none on the public one', async () => {
    const counted = async () => {
      const text = await (await fetch(metricsUrl)).text();
      return [...text.matchAll(/^graphql_requests_total\{[^}]*operation="anonymous"[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    };
    const before = await counted();
    const requests = 10;
    for (let i = 0; i < requests; i += 1) {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ topProducts(first: 1) { upc } }' }) });
      expect(response.status).toBe(200);
    }
    // Round robin spreads the requests over both workers; the primary's answer holds them all.
    expect((await counted()) - before).toBe(requests);
    expect((await fetch(url.replace(/\/graphql$/, '/metrics'))).status).toBe(404);
  });

  it('stops every worker and exits 0 on SIGTERM', async () => {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  });
});
