import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEVELOPMENT_JWT_SECRET } from '@shop/gateway/config';
import { createRedisStore, hashApiKey } from '@shop/gateway/persisted';
import { composeSupergraph, readSupergraphConfig } from '@shop/supergraph-tools';
import { copySupergraphSources, SUPERGRAPH_YAML, TEST_REDIS_URL } from '@shop/test-support';

// Each test starts several CLI processes (tsx compiles on every start); on a loaded CI machine that is
// well beyond the default 30 s. Nothing here is timed: the limit only stops a hung CLI.
vi.setConfig({ testTimeout: 120_000 });

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const KEY = /^shop_[A-Za-z0-9_-]{43}$/m;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a CLI the way `npm run` does: from the repo root, with only the variables given (plus PATH). */
function run(script: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(repo, script), ...args],
      { cwd: repo, env: { PATH: process.env.PATH ?? '', ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}
const pq = (args: string[], env: Record<string, string>) => run('tools/cli/src/pq.ts', args, env);

const operation = (name: string, body: string) => ({ id: createHash('sha256').update(body).digest('hex'), name, type: 'query', body });
const manifest = (...operations: ReturnType<typeof operation>[]) => JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations });
const TOP = operation('Top', 'query Top { topProducts(first: 3) { upc name price } }');
const DESCRIPTION = operation('Description', 'query Description($upc: String!) { product(upc: $upc) { name description } }');
const BAD = operation('Bad', 'query Bad { topProducts { upc colour } }');

let dir: string;
let supergraphPath: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shop-pq-cli-'));
  const result = await composeSupergraph(await readSupergraphConfig(SUPERGRAPH_YAML));
  if (!result.ok) throw new Error('supergraph.yaml does not compose');
  supergraphPath = join(dir, 'supergraph.graphql');
  await writeFile(supergraphPath, result.supergraphSdl);
  await writeFile(join(dir, 'catalog.json'), manifest(TOP, DESCRIPTION));
  await writeFile(join(dir, 'broken.json'), manifest(TOP, BAD));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('npm run pq (directory store)', () => {
  it('adds a client with a key shown once and stored only as its hash', async () => {
    const env = { PERSISTED_DIR: join(dir, 'clients-store'), SUPERGRAPH_PATH: supergraphPath };
    const added = await pq(['clients', 'add', 'acme'], env);
    expect(added).toMatchObject({ code: 0, stderr: '' });
    const key = added.stdout.match(KEY)?.[0];
    expect(key).toBeDefined();
    const stored = await readFile(join(env.PERSISTED_DIR, 'clients.json'), 'utf8');
    expect(stored).not.toContain(key!);
    expect(JSON.parse(stored).acme).toMatchObject({ name: 'acme', policy: 'enforce', apiKeyHash: hashApiKey(key!) });

    const again = await pq(['clients', 'add', 'acme'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists; pass --rotate-key/);
    expect(again.stderr).toMatch(/CLIENT_EXISTS/);

    const rotated = await pq(['clients', 'add', 'acme', '--rotate-key'], env);
    const newKey = rotated.stdout.match(KEY)?.[0];
    expect(newKey).toBeDefined();
    expect(newKey).not.toBe(key);
    expect(JSON.parse(await readFile(join(env.PERSISTED_DIR, 'clients.json'), 'utf8')).acme.apiKeyHash).toBe(hashApiKey(newKey!));

    expect((await pq(['clients', 'add', 'web', '--policy', 'log', '--token-only'], env)).stdout).not.toMatch(KEY);
    expect((await pq(['clients', 'set-policy', 'acme', 'off'], env)).stdout).toMatch(/"acme" now has policy off/);
    const bad = await pq(['clients', 'set-policy', 'acme', 'sometimes'], env);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/policy: policy must be one of enforce, log, off/);

    const list = await pq(['clients', 'list'], env);
    expect(list.stdout).toMatch(/^NAME\s+POLICY\s+API KEY\s+OPERATIONS$/m);
    expect(list.stdout).toMatch(/^acme\s+off\s+yes\s+0$/m);
    expect(list.stdout).toMatch(/^web\s+log\s+no\s+0$/m);
  });

  it('refuses a manifest with an invalid operation, naming it, and publishes a valid one', async () => {
    const env = { PERSISTED_DIR: join(dir, 'publish-store'), SUPERGRAPH_PATH: supergraphPath };
    const unknown = await pq(['publish', join(dir, 'catalog.json'), '--client', 'acme'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/No client named "acme"; create it first/);

    await pq(['clients', 'add', 'acme'], env);
    const refused = await pq(['publish', join(dir, 'broken.json'), '--client', 'acme'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/1 of 2 operation\(s\) are invalid/);
    expect(refused.stderr).toContain(`operations[1] Bad (id ${BAD.id}):`);
    expect(refused.stderr).toMatch(/Cannot query field "colour" on type "Product"/);
    expect(refused.stderr).not.toMatch(/operations\[0\]/);
    expect((await pq(['clients', 'list'], env)).stdout).toMatch(/^acme\s+enforce\s+yes\s+0$/m);

    const published = await pq(['publish', join(dir, 'catalog.json'), '--client', 'acme'], env);
    expect(published).toMatchObject({ code: 0, stderr: '' });
    expect(published.stdout).toMatch(/Published manifest "catalog" for client "acme": 2 operation\(s\)/);
    const stored = JSON.parse(await readFile(join(env.PERSISTED_DIR, 'manifests/acme/catalog.json'), 'utf8'));
    expect(stored.operations.map((o: { id: string }) => o.id)).toEqual([TOP.id, DESCRIPTION.id]);
    expect((await pq(['clients', 'list'], env)).stdout).toMatch(/^acme\s+enforce\s+yes\s+2$/m);

    const notJson = join(dir, 'not-a-manifest.json');
    await writeFile(notJson, JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ ...TOP, type: 'fetch' }] }));
    const invalid = await pq(['publish', notJson, '--client', 'acme', '--name', 'extra'], env);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/operations\[0\]\.type \(Top\): type must be one of query, mutation, subscription/);
  });

  it('validates against supergraph.yaml when the composed supergraph file does not exist', async () => {
    const env = { PERSISTED_DIR: join(dir, 'compose-fallback-store'), SUPERGRAPH_PATH: join(dir, 'missing.graphql'), SUPERGRAPH_CONFIG: SUPERGRAPH_YAML };
    await pq(['clients', 'add', 'acme'], env);
    const published = await pq(['publish', join(dir, 'catalog.json'), '--client', 'acme', '--name', 'v1'], env);
    expect(published.stdout).toMatch(/Published manifest "v1"/);
  });

  it('exits 78 naming a bad variable, and 64 on a usage error', async () => {
    const badEnv = await pq(['clients', 'list'], { REDIS_URL: 'localhost:6379', PERSISTED_DIR: join(dir, 'unused') });
    expect(badEnv.code).toBe(78);
    expect(badEnv.stderr).toMatch(/REDIS_URL: expected a redis:\/\/ or rediss:\/\/ URL \(got "localhost:6379"\)/);
    const usage = await pq(['publish', join(dir, 'catalog.json')], { PERSISTED_DIR: join(dir, 'unused') });
    expect(usage.code).toBe(64);
    expect(usage.stderr).toMatch(/publish needs --client <name>/);
    const badName = await pq(['publish', join(dir, 'catalog.json'), '--client', 'Acme Corp'], { PERSISTED_DIR: join(dir, 'unused') });
    expect(badName.code).toBe(64);
    expect(badName.stderr).toMatch(/--client: a client name is 1-64 lower case letters/);
  });
});

describe('npm run pq (Redis store)', () => {
  it('publishes into Redis under the configured prefix', async () => {
    const prefix = `test:pq-cli:${randomUUID()}:`;
    const env = { REDIS_URL: TEST_REDIS_URL, PQ_REDIS_PREFIX: prefix, SUPERGRAPH_PATH: supergraphPath };
    const store = createRedisStore(TEST_REDIS_URL, { prefix });
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const key = (await pq(['clients', 'add', 'acme'], env)).stdout.match(KEY)?.[0];
      expect(key).toBeDefined();
      expect((await pq(['publish', join(dir, 'broken.json'), '--client', 'acme'], env)).code).toBe(1);
      expect((await pq(['publish', join(dir, 'catalog.json'), '--client', 'acme'], env)).code).toBe(0);

      const snapshot = await store.load();
      expect(snapshot.clientsByKeyHash.get(hashApiKey(key!))?.name).toBe('acme');
      expect([...snapshot.operations.get('acme')!.keys()].sort()).toEqual([TOP.id, DESCRIPTION.id].sort());
      expect(JSON.stringify(await redis.hgetall(`${prefix}clients`))).not.toContain(key!);
    } finally {
      await store.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  });
});

describe('npm run compose with published operations', () => {
  it('refuses to write a supergraph that breaks a published operation, unless --allow-breaking', async () => {
    const work = join(dir, 'compose');
    const config = await copySupergraphSources(work);
    const env = { PERSISTED_DIR: join(work, 'store'), SUPERGRAPH_PATH: supergraphPath };
    await pq(['clients', 'add', 'acme'], env);
    expect((await pq(['publish', join(dir, 'catalog.json'), '--client', 'acme'], env)).code).toBe(0);

    const output = join(work, 'supergraph.graphql');
    const compose = (...extra: string[]) => run('tools/supergraph/src/cli.ts', ['--config', config, '--output', output, ...extra], env);
    expect((await compose()).stdout).toMatch(/Composed 5 subgraphs/);
    await rm(output);

    const schemaFile = join(work, 'subgraphs/products/schema.graphql');
    const original = await readFile(schemaFile, 'utf8');
    // The field and its description, if it has one.
    await writeFile(schemaFile, original.replace(/\n(\s*"[^"\n]*"\n)?\s*description: String!\n/, '\n'));
    const refused = await compose();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/breaks 1 published operation/);
    expect(refused.stderr).toContain(`[client acme, manifest catalog] Description (${DESCRIPTION.id}):`);
    expect(refused.stderr).toMatch(/Cannot query field "description" on type "Product"/);
    expect(await stat(output).catch(() => null)).toBeNull();

    const forced = await compose('--allow-breaking');
    expect(forced.code).toBe(0);
    expect(await readFile(output, 'utf8')).not.toMatch(/^\s*description: String!/m);
  });
});

describe('npm run token', () => {
  const token = (args: string[], env: Record<string, string> = {}) => run('tools/cli/src/token.ts', args, env);

  it('prints only a token that verifies with the configured secret, issuer and audience', async () => {
    const secret = 'a-test-secret-of-at-least-32-characters!';
    const minted = await token(['--sub', '7', '--scope', 'read write', '--client', 'acme', '--expires', '2h'], {
      AUTH_JWT_SECRET: secret,
      AUTH_JWT_ISSUER: 'https://issuer.test',
      AUTH_JWT_AUDIENCE: 'shop-api',
    });
    expect(minted).toMatchObject({ code: 0, stderr: '' });
    expect(minted.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const { payload, protectedHeader } = await jwtVerify(minted.stdout.trim(), new TextEncoder().encode(secret), {
      issuer: 'https://issuer.test',
      audience: 'shop-api',
    });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload).toMatchObject({ sub: '7', scope: 'read write', client_id: 'acme' });
    expect(payload.exp! - payload.iat!).toBe(7200);
  });

  it('signs with the development secret by default, and refuses production', async () => {
    const minted = await token(['--sub', '42', '--scope', 'read']);
    const { payload } = await jwtVerify(minted.stdout.trim(), new TextEncoder().encode(DEVELOPMENT_JWT_SECRET));
    expect(payload).toMatchObject({ sub: '42', scope: 'read' });
    expect(payload).not.toHaveProperty('client_id');
    expect(payload).not.toHaveProperty('iss');

    const production = await token(['--sub', '42', '--scope', 'read'], { NODE_ENV: 'production', AUTH_JWT_SECRET: 'x'.repeat(40) });
    expect(production.code).toBe(78);
    expect(production.stdout).toBe('');
    expect(production.stderr).toMatch(/refuses to run with NODE_ENV=production/);

    const usage = await token(['--scope', 'read', '--expires', 'soon']);
    expect(usage.code).toBe(64);
    expect(usage.stderr).toMatch(/--sub is required[\s\S]*--expires is a duration/);
  });
});
