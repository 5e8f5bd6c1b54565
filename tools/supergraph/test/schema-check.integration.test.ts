import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisStore, hashApiKey } from '@shop/gateway/persisted';
import { redisOperationLog } from '@shop/gateway/recording';
import { openRedis } from '@shop/service-kit';
import { copySupergraphSources, TEST_REDIS_URL, until } from '@shop/test-support';
import { startTestStack, type TestStack } from '@shop/test-support/stack';
import { composeSupergraph, readSupergraphConfig } from '../src/index.ts';

// Each case starts the CLI (tsx compiles it) and composes twice; nothing here is timed, the limit only stops a hung CLI.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(repo, 'tools/supergraph/src/schema-check-cli.ts');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let stack: TestStack;
let dir: string;
let env: Record<string, string>;

/** Runs the CLI the way `npm run schema:check` does, from the repo root, with only the variables given (plus PATH). */
function runCli(args: string[], cliEnv: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: repo, env: { PATH: process.env.PATH ?? '', ...cliEnv } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** schema:check of the copy in `dir` against the supergraph composed before any edit, with the stack's Redis. */
const schemaCheck = (args: string[] = [], extraEnv: Record<string, string> = {}) =>
  runCli(['--config', join(dir, 'supergraph.yaml'), '--base', join(dir, 'base.graphql'), ...args], { ...env, ...extraEnv });

/** Edits a subgraph schema of the copy for one case, then puts it back. */
async function withSchema<T>(subgraph: string, edit: (sdl: string) => string, fn: () => Promise<T>): Promise<T> {
  const file = join(dir, 'subgraphs', subgraph, 'schema.graphql');
  const original = await readFile(file, 'utf8');
  const edited = edit(original);
  expect(edited).not.toBe(original);
  await writeFile(file, edited);
  try {
    return await fn();
  } finally {
    await writeFile(file, original);
  }
}
/** Removes a field definition line (and works whether or not the field has a description above it). */
const removeField = (type: string, field: string) => (sdl: string) => {
  const start = sdl.indexOf(`type ${type} `);
  const end = sdl.indexOf('\n}', start);
  const body = sdl.slice(start, end).replace(new RegExp(`\\n[ \\t]*(?:"[^"\\n]*"\\n[ \\t]*)?${field}(?:\\([^)]*\\))?: [^\\n]*`), '');
  return sdl.slice(0, start) + body + sdl.slice(end);
};

const PRODUCT_PAGE = 'query ProductPage($upc: String!) { product(upc: $upc) { upc name description price } }';
const TOP_LIST = 'query TopList { topProducts(first: 2) { upc name } }';
const PARTNER_KEY = 'shop_test-partner-key-for-schema-check-000000000';
const PARTNER = 'query PartnerCatalog { topProducts(first: 3) { upc category } }';

beforeAll(async () => {
  stack = await startTestStack({ gatewayEnv: { OPERATION_RECORDING_FLUSH_MS: '50' } });
  env = { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: stack.redisPrefix };

  // Traffic through the real gateway: the web shop's product page three times (formatted two ways), the app's list once.
  const web = { 'apollographql-client-name': 'web-shop' };
  for (const query of [PRODUCT_PAGE, PRODUCT_PAGE, PRODUCT_PAGE.replace(/ \{ /g, ' {\n  ')]) {
    const answer = await stack.query(query, { upc: '048213000011' }, { headers: web });
    expect(answer.body.errors).toBeUndefined();
  }
  expect((await stack.query(TOP_LIST, {}, { headers: { 'apollographql-client-name': 'ios-app' } })).body.errors).toBeUndefined();
  // A document that does not validate is not recorded: nothing depends on it.
  expect((await stack.query('query Typo { topProducts { colour } }')).status).toBe(400);

  // A partner's published manifest, in the gateway's store; the partner calls it by id with its key.
  const store = createRedisStore(TEST_REDIS_URL, { prefix: `${stack.redisPrefix}pq:` });
  const id = createHash('sha256').update(PARTNER).digest('hex');
  try {
    await store.putClient({ name: 'acme', policy: 'enforce', apiKeyHash: hashApiKey(PARTNER_KEY), createdAt: new Date().toISOString() });
    await store.publishManifest('acme', 'catalog', [{ id, name: 'PartnerCatalog', type: 'query', body: PARTNER }]);
  } finally {
    await store.close();
  }
  await until(() => stack.gateway.registry.operation('acme', id) !== undefined, { what: 'the partner manifest loaded by the gateway' });
  const byId = await fetch(stack.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': PARTNER_KEY },
    body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: id } } }),
  });
  expect(((await byId.json()) as { errors?: unknown }).errors).toBeUndefined();

  // The recorder flushes in the background: wait until Redis holds both documents.
  const redis = openRedis(TEST_REDIS_URL, { component: 'test', degradesTo: 'fails' });
  const log = redisOperationLog(redis, `${stack.redisPrefix}ops:`);
  try {
    await until(async () => (await log.list()).length === 3, { timeoutMs: 20_000, what: 'three recorded documents' });
    const recorded = await log.list();
    const page = recorded.find((op) => op.operationName === 'ProductPage');
    // Both formattings are one normalized document: one entry, three runs.
    expect(page?.clients).toEqual([{ client: 'web-shop', count: 3, lastSeen: expect.any(Number) }]);
    expect(recorded.find((op) => op.operationName === 'TopList')?.clients).toMatchObject([{ client: 'ios-app', count: 1 }]);
    // A registered client is recorded by its registered name, also when it sends a persisted id.
    expect(recorded.find((op) => op.operationName === 'PartnerCatalog')?.clients).toMatchObject([{ client: 'acme', count: 1 }]);
  } finally {
    await redis.close();
  }

  dir = await mkdtemp(join(tmpdir(), 'shop-schema-check-'));
  await copySupergraphSources(dir);
  const base = await composeSupergraph(await readSupergraphConfig(join(dir, 'supergraph.yaml')));
  if (!base.ok) throw new Error('supergraph.yaml does not compose');
  await writeFile(join(dir, 'base.graphql'), base.supergraphSdl);
});

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('npm run schema:check', () => {
  it('passes an unchanged schema, reading published and recorded operations', async () => {
    const run = await schemaCheck();
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/No changes to the API schema/);
    expect(run.stdout).toMatch(/1 published operation\(s\) in Redis/);
    expect(run.stdout).toMatch(/3 recorded document\(s\) in Redis/);
  });

  it('fails when a field used by recorded traffic is removed, naming the client and operation', async () => {
    const run = await withSchema('products', removeField('Product', 'description'), () => schemaCheck());
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/BREAKING\s+Field 'description' was removed from object type 'Product'\s+\[Product\.description\]/);
    expect(run.stdout).toMatch(/breaks client web-shop, operation ProductPage \(recorded: 3 run\(s\), last \d{4}-/);
    expect(run.stdout).toMatch(/Cannot query field "description" on type "Product"/);
    expect(run.stderr).toMatch(/FAILED: 1 client operation\(s\) break:\n {2}client web-shop, operation ProductPage/);
    // The app's list does not use it.
    expect(run.stdout + run.stderr).not.toMatch(/ios-app/);
  });

  it('--allow-breaking passes the same change, still listing what it breaks', async () => {
    const run = await withSchema('products', removeField('Product', 'description'), () => schemaCheck(['--allow-breaking']));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--allow-breaking: passing although 1 client operation\(s\) break:\n {2}client web-shop, operation ProductPage/);
  });

  it('fails when a field a partner published an operation with is removed, naming the client', async () => {
    const run = await withSchema('products', removeField('Product', 'category'), () => schemaCheck());
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/breaks client acme, operation PartnerCatalog \(published, manifest catalog\)/);
    expect(run.stdout).toMatch(/breaks client acme, operation PartnerCatalog \(recorded: 1 run\(s\)/);
    expect(run.stderr).toMatch(/client acme, operation PartnerCatalog/);
  });

  it('warns about a breaking change no client operation uses, and passes', async () => {
    const run = await withSchema('accounts', removeField('User', 'createdAt'), () => schemaCheck());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/BREAKING\s+Field 'createdAt' was removed from object type 'User'[^\n]*\n\s+no client operation uses it/);
    expect(run.stdout).toMatch(/OK: 1 breaking change\(s\), but no client operation uses what they change/);
  });

  it('passes an added field as safe and a changed default as dangerous (naming who to check), and lists deprecated fields still in use with their clients', async () => {
    const edit = (sdl: string) =>
      sdl
        .replace(/(topProducts\([^)]*first: Int = )5\)/, '$16)')
        .replace(/(\n([ \t]*)category: String!)/, '$1\n$2colour: String')
        .replace(/(\n[ \t]*name: String!)/, '$1 @deprecated(reason: "Use title.")');
    const run = await withSchema('products', edit, () => schemaCheck());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/safe\s+Field 'colour' was added to object type 'Product'/);
    expect(run.stdout).toMatch(/DANGEROUS\s+Default value for argument 'first' on field 'Query\.topProducts' changed from '5' to '6'[^\n]*\n[^\n]*\n\s+check client (ios-app, operation TopList|acme, operation PartnerCatalog)/);
    expect(run.stdout).toMatch(/Deprecated, still in use:\n {2}Product\.name \(Use title\.\)/);
    expect(run.stdout).toMatch(/client web-shop, operation ProductPage/);
    expect(run.stdout).toMatch(/client ios-app, operation TopList/);
  });

  it('--base-ref compares with the subgraphs as committed at a git ref, as CI does with the merge base', async () => {
    const git = (...args: string[]) =>
      new Promise<void>((resolve, reject) =>
        execFile('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: dir }, (error) => (error ? reject(error) : resolve())),
      );
    await git('init', '-q');
    await git('add', '.');
    await git('commit', '-q', '-m', 'base');
    const config = join(dir, 'supergraph.yaml');
    const unchanged = await runCli(['--config', config, '--base-ref', 'HEAD'], env);
    expect(unchanged.code).toBe(0);
    expect(unchanged.stdout).toMatch(/with the subgraphs at git ref HEAD \(composed\)/);
    expect(unchanged.stdout).toMatch(/No changes to the API schema/);
    const removed = await withSchema('products', removeField('Product', 'description'), () => runCli(['--config', config, '--base-ref', 'HEAD'], env));
    expect(removed.code).toBe(1);
    expect(removed.stderr).toMatch(/client web-shop, operation ProductPage/);
    const unknown = await runCli(['--config', config, '--base-ref', 'no-such-branch'], env);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toMatch(/^schema:check: Cannot read supergraph\.yaml at git ref "no-such-branch"/);
  });

  it('answers a bad flag, a missing base and an unreachable Redis with one line and its exit code', async () => {
    const bad = await schemaCheck(['--bogus']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/^schema:check: Unknown option '--bogus'/);
    const missing = await runCli(['--config', join(dir, 'supergraph.yaml'), '--base', join(dir, 'nope.graphql')], {});
    expect(missing.code).toBe(66);
    expect(missing.stderr).toMatch(/^schema:check: Cannot read the base supergraph .*nope\.graphql \(ENOENT\)/);
    const down = await schemaCheck([], { REDIS_URL: 'redis://127.0.0.1:1', REDIS_CONNECT_TIMEOUT_MS: '200' });
    expect(down.code).toBe(69);
    expect(down.stderr).toMatch(/^schema:check: Redis at 127\.0\.0\.1:1 is unreachable/);
    for (const run of [bad, missing, down]) expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
