import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CliError, describeFailure, EXIT } from '../src/index.ts';

// Each case starts a CLI process (tsx compiles on every start); on a loaded CI machine that is well
// beyond the default 30 s. Nothing here is timed: the limit only stops a hung CLI.
vi.setConfig({ testTimeout: 180_000 });

const repo = fileURLToPath(new URL('../../../', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a CLI the way `npm run` does: from the repo root, with only the variables given (plus PATH). */
function run(script: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(repo, script), ...args],
      { cwd: repo, env: { PATH: process.env.PATH ?? '', ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * A loopback port that was free a moment ago. Not @shop/test-support's: that package depends on
 * the tools (and so on this kit), and a test dependency back would be a cycle.
 */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The promise of every tool: one line on stderr that names the tool, a sysexits code, no stack frame. */
function expectOneLine(result: Run, tool: string, code: number, message: RegExp): void {
  expect(result.stderr.split('\n').filter(Boolean), result.stderr).toHaveLength(1);
  expect(result.stderr).toMatch(new RegExp(`^${tool}: `));
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stderr).not.toMatch(/internal error/);
  expect(result.stderr).toMatch(message);
  expect(result.code, result.stderr).toBe(code);
}

const SCRIPTS = {
  explain: 'tools/explain/src/explain.ts',
  budgets: 'tools/explain/src/budgets.ts',
  pq: 'tools/cli/src/pq.ts',
  token: 'tools/cli/src/token.ts',
  compose: 'tools/supergraph/src/cli.ts',
  bench: 'tools/bench/src/cli.ts',
  chaos: 'tools/chaos/src/cli.ts',
  'measure:stop': 'tools/dev-stack/src/measure-stop.ts',
  'order-rush': 'tools/bench/src/order-rush.ts',
} as const;

let dir: string;
/** A loopback port nothing listens on: a gateway, PostgreSQL or Redis that is not running. */
let closedPort: number;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shop-cli-failures-'));
  closedPort = await freePort();
  await writeFile(join(dir, 'not-json.json'), '{ "operations": [');
  await writeFile(join(dir, 'query.graphql'), '{ topProducts { upc } }');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('every npm run tool answers a bad flag with one line and exit 64', () => {
  for (const [tool, script] of Object.entries(SCRIPTS)) {
    it(tool, async () => {
      expectOneLine(await run(script, ['--no-such-flag']), tool, EXIT.usage, /Unknown option '--no-such-flag'/);
    });
  }
  it('bad flag values too', async () => {
    const [chaos, measure, token] = await Promise.all([
      run(SCRIPTS.chaos, ['--rate', 'fast']),
      run(SCRIPTS['measure:stop'], ['--runs', '0']),
      run(SCRIPTS.token, ['--scope', 'read']),
    ]);
    expectOneLine(chaos, 'chaos', EXIT.usage, /--rate: expected a number/);
    expectOneLine(measure, 'measure:stop', EXIT.usage, /--runs 1 to 20/);
    expectOneLine(token, 'token', EXIT.usage, /--sub is required/);
  });
});

describe('a missing or unreadable file: one line and exit 66 (65 for one that is not what it should be)', () => {
  it('explain, budgets, pq and compose', async () => {
    const missing = join(dir, 'missing');
    const [explain, budgets, pq, compose, notJson] = await Promise.all([
      run(SCRIPTS.explain, [`${missing}.graphql`]),
      run(SCRIPTS.budgets, [`${missing}.json`]),
      run(SCRIPTS.pq, ['publish', `${missing}.json`, '--client', 'acme'], { PERSISTED_DIR: join(dir, 'store') }),
      run(SCRIPTS.compose, ['--config', `${missing}.yaml`, '--output', join(dir, 'supergraph.graphql')]),
      run(SCRIPTS.budgets, [join(dir, 'not-json.json')]),
    ]);
    expectOneLine(explain, 'explain', EXIT.noInput, /cannot read .*missing\.graphql: no such file/);
    expectOneLine(budgets, 'budgets', EXIT.noInput, /cannot read .*missing\.json: no such file/);
    expectOneLine(pq, 'pq', EXIT.noInput, /Cannot read .*missing\.json: no such file/);
    expectOneLine(compose, 'compose', EXIT.noInput, /cannot read .*missing\.yaml: no such file/);
    expectOneLine(notJson, 'budgets', EXIT.dataErr, /not-json\.json is not valid JSON/);
  });
});

describe('a service that is not running: one line and exit 69', () => {
  it('explain without a gateway (was a `TypeError: fetch failed` stack)', async () => {
    const url = `http://127.0.0.1:${closedPort}/graphql`;
    expectOneLine(
      await run(SCRIPTS.explain, [join(dir, 'query.graphql')], { GATEWAY_URL: url }),
      'explain',
      EXIT.unavailable,
      new RegExp(`cannot reach the gateway at ${url}: is it running\\? Start it with npm start`),
    );
  });

  it('pq and compose without Redis, budgets and bench without PostgreSQL', async () => {
    const redis = `redis://127.0.0.1:${closedPort}`;
    const postgres = `postgres://postgres@127.0.0.1:${closedPort}/postgres`;
    const [pq, compose, budgets, bench] = await Promise.all([
      run(SCRIPTS.pq, ['clients', 'list'], { REDIS_URL: redis }),
      run(SCRIPTS.compose, ['--output', join(dir, 'supergraph.graphql')], { REDIS_URL: redis }),
      run(SCRIPTS.budgets, [], { BUDGETS_DATABASE_URL: postgres }),
      run(SCRIPTS.bench, [], { BENCH_DATABASE_URL: postgres, BENCH_SETS: 'shop', BENCH_GATEWAYS: 'ours', BENCH_OUTPUT: '-' }),
    ]);
    expectOneLine(pq, 'pq', EXIT.unavailable, /Redis .* is unreachable/);
    expectOneLine(compose, 'compose', EXIT.unavailable, /Redis .* is unreachable/);
    expectOneLine(budgets, 'budgets', EXIT.unavailable, /cannot reach PostgreSQL at .* \(BUDGETS_DATABASE_URL\): is it running\?/);
    expectOneLine(bench, 'bench', EXIT.unavailable, /Cannot connect to postgres:\/\/.*ECONNREFUSED/);
  });
});

describe('order-rush', () => {
  it('without a gateway: one line and exit 69; a bad count: the usage and exit 64', async () => {
    const url = `http://127.0.0.1:${closedPort}/graphql`;
    const [down, badCount] = await Promise.all([run(SCRIPTS['order-rush'], ['--orders', '10'], { GATEWAY_URL: url }), run(SCRIPTS['order-rush'], ['--orders', '0'])]);
    expectOneLine(down, 'order-rush', EXIT.unavailable, new RegExp(`cannot reach the gateway at ${url}: is it running\\?`));
    expectOneLine(badCount, 'order-rush', EXIT.usage, /--orders: expected a whole number from 1 to 100000 .*usage: npm run order-rush/);
  });
});

describe('a bad environment variable: one line naming it and exit 78', () => {
  it('explain, pq, compose, token, bench', async () => {
    const [explain, pq, compose, token, bench] = await Promise.all([
      run(SCRIPTS.explain, [join(dir, 'query.graphql')], { GATEWAY_URL: 'localhost:4000' }),
      run(SCRIPTS.pq, ['clients', 'list'], { REDIS_URL: 'localhost:6379' }),
      run(SCRIPTS.compose, ['--output', join(dir, 'supergraph.graphql')], { REDIS_URL: 'localhost:6379' }),
      run(SCRIPTS.token, ['--sub', '1', '--scope', ''], { NODE_ENV: 'staging' }),
      run(SCRIPTS.bench, [], { BENCH_CONNECTIONS: 'many' }),
    ]);
    expectOneLine(explain, 'explain', EXIT.config, /invalid configuration: GATEWAY_URL: expected an http\(s\) URL/);
    expectOneLine(pq, 'pq', EXIT.config, /REDIS_URL: expected a redis:\/\/ or rediss:\/\/ URL/);
    expectOneLine(compose, 'compose', EXIT.config, /REDIS_URL: expected a redis:\/\/ or rediss:\/\/ URL/);
    expectOneLine(token, 'token', EXIT.config, /NODE_ENV/);
    expectOneLine(bench, 'bench', EXIT.config, /BENCH_CONNECTIONS/);
  });
});

describe('describeFailure', () => {
  it('keeps a stack for what is a bug, and only for that', () => {
    expect(describeFailure(new TypeError("Cannot read properties of undefined (reading 'x')"))).toMatchObject({
      exitCode: EXIT.software,
      bug: true,
      line: expect.stringMatching(/^internal error: /),
    });
    expect(describeFailure(new CliError('no', EXIT.failed))).toEqual({ exitCode: EXIT.failed, line: 'no', bug: false });
  });

  it('finds the socket error inside fetch failed and inside happy eyeballs', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED ::1:4000'), { code: 'ECONNREFUSED', address: '::1', port: 4000 });
    const aggregate = Object.assign(new AggregateError([refused], ''), { code: 'ECONNREFUSED' });
    expect(describeFailure(new TypeError('fetch failed', { cause: aggregate }))).toEqual({
      exitCode: EXIT.unavailable,
      line: 'cannot connect to ::1:4000: connection refused',
      bug: false,
    });
  });
});
