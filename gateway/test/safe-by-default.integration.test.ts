import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, until } from '@shop/test-support';
import { startTestStack, type TestStack } from '@shop/test-support/stack';

// The gateway as a deployment runs it: the bundle `npm run build` makes, started with plain
// `node gateway/dist/main.js` and an environment without NODE_ENV. Unset must mean production.
// Each check is also made against the same bundle under NODE_ENV=development, where it must come
// out the other way: that is what shows the check could fail.

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BUILT = join(REPO, 'gateway', 'dist', 'main.js');
const SECRET = 'a-production-secret-of-at-least-32-characters';
const ISSUER = 'https://id.shop.test/';
const AUDIENCE = 'shop-api';
const AUTH = { AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE };

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

let stack: TestStack;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  dir = await mkdtemp(join(tmpdir(), 'shop-safe-default-'));
  // What `npm run build` runs for the gateway's bundle.
  await run(process.execPath, ['--import', 'tsx', 'tools/dev-stack/src/bundle-cli.ts', 'gateway'], { cwd: REPO });
});
afterAll(async () => {
  // SIGTERM, which the entry passes on to the gateway it runs (on Node 20 a child): a SIGKILL would
  // end only the supervising process (the gateway would then stop itself, a second later).
  await Promise.all(
    children.filter((child) => child.exitCode === null && child.signalCode === null).map(async (child) => {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }),
  );
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The environment a deployment would give: nothing inherited from the test runner (which sets NODE_ENV=test). */
async function baseEnv(extra: Record<string, string>): Promise<Record<string, string>> {
  return {
    PATH: process.env.PATH ?? '',
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    METRICS_PORT: 'off',
    SUPERGRAPH_PATH: stack.supergraphPath,
    PERSISTED_DIR: join(dir, `persisted-${children.length}`),
    OTEL_TRACES_EXPORTER: 'none',
    APOLLO_TELEMETRY_DISABLED: 'true',
    LOG_LEVEL: 'warn',
    ...stack.trust.gatewayEnv,
    ...extra,
  };
}

function spawnBuilt(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, [BUILT], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

async function startBuilt(extra: Record<string, string>): Promise<Started> {
  const env = await baseEnv(extra);
  const { child, output } = spawnBuilt(env);
  const url = `http://127.0.0.1:${env.PORT}`;
  await until(
    async () => {
      if (child.exitCode !== null) throw new Error(`the built gateway exited ${child.exitCode}:\n${output()}`);
      return (await fetch(`${url}/ready`).catch(() => null))?.status === 200;
    },
    { timeoutMs: 60_000, intervalMs: 100, what: () => `the built gateway ready:\n${output()}` },
  );
  return { child, url: `${url}/graphql`, output };
}

interface Answer {
  status: number;
  body: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

async function post(url: string, query: string, token?: string): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

/** What the issue's reproduction used: `npm run token` signs with the built-in development secret. */
async function developmentToken(): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'tools/cli/src/token.ts', '--sub', '1', '--scope', 'orders:read orders:write'], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development' },
  });
  return stdout.trim();
}

function productionToken(): Promise<string> {
  return new SignJWT({ scope: 'orders:read' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject('1')
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(SECRET));
}

const INTROSPECTION = '{ __schema { queryType { name } } }';
// A misspelt field: a validation error, which outside production carries the server's stack.
const MISSPELT = '{ user(id: "1") { emai } }';
const stacktraces = (answer: Answer) => (answer.body.errors ?? []).filter((error) => error.extensions && 'stacktrace' in error.extensions).length;

describe('node gateway/dist/main.js with no NODE_ENV', () => {
  it('refuses to start without authentication settings, exit 78, naming the variables to set', async () => {
    const { child, output } = spawnBuilt(await baseEnv({}));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    expect(code).toBe(78);
    expect(output()).toMatch(/AUTH_JWKS_URL: is required in production \(NODE_ENV unset or production\)/);
    for (const variable of ['AUTH_JWT_ISSUER', 'AUTH_JWT_AUDIENCE', 'AUTH_JWT_SECRET']) expect(output()).toContain(variable);
  });

  it('with them: refuses development-secret tokens, introspection and stack traces; a development gateway of the same bundle allows all three', async () => {
    const [production, development, devToken] = await Promise.all([startBuilt(AUTH), startBuilt({ NODE_ENV: 'development' }), developmentToken()]);

    // A token signed with the published secret: 401 in production, accepted in development.
    const refused = await post(production.url, '{ me { id } }', devToken);
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await post(development.url, '{ me { id } }', devToken)).body.data).toEqual({ me: { id: '1' } });
    // The production gateway's own tokens are accepted: it refuses the secret, not everyone.
    expect((await post(production.url, '{ me { id } }', await productionToken())).body.data).toEqual({ me: { id: '1' } });

    const introspection = await post(production.url, INTROSPECTION);
    expect(introspection.body.data ?? null).toBeNull();
    expect(introspection.body.errors?.[0]?.message).toMatch(/introspection is not allowed/i);
    expect((await post(development.url, INTROSPECTION)).body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });

    const productionError = await post(production.url, MISSPELT);
    expect(productionError.body.errors?.length).toBeGreaterThan(0);
    expect(stacktraces(productionError)).toBe(0);
    expect(JSON.stringify(productionError.body)).not.toMatch(/\.(js|ts):\d+/);
    expect(stacktraces(await post(development.url, MISSPELT))).toBeGreaterThan(0);
  });
});
