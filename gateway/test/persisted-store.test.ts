import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
// Composition and the published-operations check are tools; here they give the tests a real supergraph.
import { checkPublishedOperations, composeSupergraph, readSupergraphConfig } from '@shop/supergraph-tools';
import { SUPERGRAPH_YAML, TEST_REDIS_URL } from '@shop/test-support';
import { addClient, hashApiKey, setClientPolicy } from '../src/persisted/clients.ts';
import { PersistedError } from '../src/persisted/errors.ts';
import { createFileStore } from '../src/persisted/file-store.ts';
import { apiSchemaFromSupergraph, parseManifest, validateOperations } from '../src/persisted/manifest.ts';
import { openPersistedStore } from '../src/persisted/open-store.ts';
import { publishChecked } from '../src/persisted/publish.ts';
import { createRedisStore } from '../src/persisted/redis-store.ts';
import type { ClientRecord, PersistedOperation, PersistedStore } from '../src/persisted/types.ts';

const op = (name: string, body: string, type: PersistedOperation['type'] = 'query'): PersistedOperation => ({
  id: createHash('sha256').update(body).digest('hex'),
  name,
  type,
  body,
});
const client = (name: string, apiKey: string | null, policy: ClientRecord['policy'] = 'enforce'): ClientRecord => ({
  name,
  policy,
  apiKeyHash: apiKey === null ? null : hashApiKey(apiKey),
  createdAt: new Date().toISOString(),
});
const GET_PRODUCT = op('GetProduct', 'query GetProduct($upc: String!) { product(upc: $upc) { upc name price } }');
const TOP = op('Top', 'query Top { topProducts(first: 3) { upc name } }');
const ME = op('Me', 'query Me { me { id username } }');

/** Resolves when `store.watch` has reported `count` changes. */
function changes(store: PersistedStore, count = 1): { done: Promise<void>; stop: () => void } {
  let seen = 0;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const stop = store.watch(() => {
    if (++seen >= count) resolve();
  });
  return { done, stop };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(PersistedError);
  return (error as PersistedError).code;
}

let redis: Redis;
const prefixes: string[] = [];
const dirs: string[] = [];
const open: PersistedStore[] = [];

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  for (const prefix of prefixes.splice(0)) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
afterAll(async () => {
  await redis.quit();
});

interface Kind {
  name: string;
  /** Two store objects on the same data: two replicas. */
  pair(): Promise<[PersistedStore, PersistedStore]>;
  corrupt(): Promise<void>;
}
let current: { prefix?: string; dir?: string } = {};
const kinds: Kind[] = [
  {
    name: 'redis',
    async pair() {
      const prefix = `test:pq:${randomUUID()}:`;
      prefixes.push(prefix);
      current = { prefix };
      const stores: [PersistedStore, PersistedStore] = [createRedisStore(TEST_REDIS_URL, { prefix }), createRedisStore(TEST_REDIS_URL, { prefix })];
      open.push(...stores);
      return stores;
    },
    async corrupt() {
      await redis.hset(`${current.prefix}clients`, 'broken', '{"name":"broken"');
    },
  },
  {
    name: 'file',
    async pair() {
      const dir = await mkdtemp(join(tmpdir(), 'shop-pq-store-'));
      dirs.push(dir);
      current = { dir };
      const stores: [PersistedStore, PersistedStore] = [createFileStore(dir), createFileStore(dir)];
      open.push(...stores);
      return stores;
    },
    async corrupt() {
      await writeFile(join(current.dir!, 'clients.json'), '{"broken": {"name": "broken"}}');
    },
  },
];

describe.each(kinds)('$name store', (kind) => {
  it('round-trips clients and merges all manifests of a client', async () => {
    const [store] = await kind.pair();
    expect((await store.load()).clientsByName.size).toBe(0);

    await store.putClient(client('acme', 'shop_acme-key'));
    await store.putClient(client('web', null, 'log'));
    await store.publishManifest('acme', 'catalog', [GET_PRODUCT, TOP]);
    await store.publishManifest('acme', 'account', [ME]);

    const snapshot = await store.load();
    expect([...snapshot.clientsByName.keys()].sort()).toEqual(['acme', 'web']);
    expect(snapshot.clientsByName.get('web')).toMatchObject({ policy: 'log', apiKeyHash: null });
    // Only clients with a key can be found by one.
    expect([...snapshot.clientsByKeyHash.keys()]).toEqual([hashApiKey('shop_acme-key')]);
    expect(snapshot.clientsByKeyHash.get(hashApiKey('shop_acme-key'))?.name).toBe('acme');
    expect([...snapshot.operations.get('acme')!.keys()].sort()).toEqual([GET_PRODUCT.id, TOP.id, ME.id].sort());
    expect(snapshot.operations.get('acme')!.get(ME.id)).toEqual(ME);
    expect(snapshot.operations.get('web')!.size).toBe(0);

    const listed = await store.listManifests();
    expect(listed.map((m) => `${m.client}/${m.manifest}:${m.operations.length}`).sort()).toEqual(['acme/account:1', 'acme/catalog:2']);

    // Publishing a manifest again replaces it, leaving the client's other manifests alone.
    await store.publishManifest('acme', 'catalog', [TOP]);
    expect([...(await store.load()).operations.get('acme')!.keys()].sort()).toEqual([TOP.id, ME.id].sort());

    // A changed client (new policy, rotated key) replaces the old record and its key.
    await store.putClient({ ...client('acme', 'shop_new-key'), policy: 'off' });
    const after = await store.load();
    expect(after.clientsByName.get('acme')?.policy).toBe('off');
    expect(after.clientsByKeyHash.has(hashApiKey('shop_acme-key'))).toBe(false);
    expect(after.clientsByKeyHash.get(hashApiKey('shop_new-key'))?.name).toBe('acme');
  });

  it('validates its inputs with stable codes', async () => {
    const [store] = await kind.pair();
    await store.putClient(client('acme', null));
    expect(await codeOf(store.publishManifest('nobody', 'm', [TOP]))).toBe('UNKNOWN_CLIENT');
    expect(await codeOf(store.publishManifest('Acme', 'm', [TOP]))).toBe('INVALID_CLIENT_NAME');
    expect(await codeOf(store.publishManifest('acme', '../escape', [TOP]))).toBe('INVALID_MANIFEST_NAME');
    expect(await codeOf(store.publishManifest('acme', 'm', [{ ...TOP, type: 'query ' as 'query' }]))).toBe('INVALID_OPERATIONS');
    expect(await codeOf(store.putClient({ ...client('acme', null), apiKeyHash: 'shop_plain-key' }))).toBe('INVALID_CLIENT');
    const error = await store.putClient({ ...client('x', null), name: '../etc' }).catch((e: unknown) => e as PersistedError);
    expect(error?.message).toMatch(/name: a client name is 1-64 lower case letters/);
  });

  it('refuses stored data it did not write, naming where it is', async () => {
    const [store] = await kind.pair();
    await store.putClient(client('acme', null));
    await kind.corrupt();
    const error = await store.load().then(() => null, (e: unknown) => e as PersistedError);
    expect(error).toBeInstanceOf(PersistedError);
    expect(error?.code).toBe('STORE_CORRUPT');
    expect(error?.message).toMatch(/clients/);
  });

  it('tells the other replica about a publish and a client change', async () => {
    const [writer, replica] = await kind.pair();
    await writer.putClient(client('acme', null));
    await replica.load();
    const first = changes(replica);
    await writer.publishManifest('acme', 'catalog', [TOP]);
    await first.done;
    first.stop();
    expect((await replica.load()).operations.get('acme')!.has(TOP.id)).toBe(true);

    const second = changes(replica);
    await writer.putClient(client('partner', 'shop_partner-key'));
    await second.done;
    second.stop();
    expect((await replica.load()).clientsByName.has('partner')).toBe(true);
  });

  it('reports a change made between a load and the start of watching', async () => {
    const [writer, replica] = await kind.pair();
    await writer.putClient(client('acme', null));
    await replica.load();
    await writer.publishManifest('acme', 'catalog', [TOP]);
    const change = changes(replica);
    await change.done;
    change.stop();
  });
});

describe('redis store', () => {
  it('notices a change whose pub/sub message was lost, by polling the version', async () => {
    const prefix = `test:pq:${randomUUID()}:`;
    prefixes.push(prefix);
    const replica = createRedisStore(TEST_REDIS_URL, { prefix, pollIntervalMs: 100 });
    open.push(replica);
    await replica.load();
    const change = changes(replica);
    // What a publish does, minus the PUBLISH that a reconnecting subscriber would have missed.
    await redis.incr(`${prefix}version`);
    await change.done;
    change.stop();
  });

  it('refuses to take a Redis that lost its data for an empty set, and loads what is published again', async () => {
    const prefix = `test:pq:${randomUUID()}:`;
    prefixes.push(prefix);
    const store = createRedisStore(TEST_REDIS_URL, { prefix });
    open.push(store);
    await store.putClient(client('acme', null));
    expect((await store.load()).clientsByName.has('acme')).toBe(true);
    // What a Redis restarted without persistence holds: nothing, not even the version.
    await redis.del(...(await redis.keys(`${prefix}*`)));
    expect(await codeOf(store.load())).toBe('STORE_EMPTY');
    await store.putClient(client('acme', null));
    expect((await store.load()).clientsByName.has('acme')).toBe(true);
  });

  it("keeps a client's manifests from before Redis lost its data until that client's are published again, and never revives a client", async () => {
    const prefix = `test:pq:${randomUUID()}:`;
    prefixes.push(prefix);
    const store = createRedisStore(TEST_REDIS_URL, { prefix });
    open.push(store);
    await store.putClient(client('acme', null));
    await store.putClient(client('web', null));
    await store.publishManifest('acme', 'catalog', [GET_PRODUCT, TOP]);
    await store.publishManifest('web', 'app', [ME]);
    await store.load();
    await redis.del(...(await redis.keys(`${prefix}*`)));
    // Published again as `npm run pq` does, one change at a time: the client first.
    await store.putClient(client('acme', null));
    const between = await store.load();
    expect([...between.clientsByName.keys()]).toEqual(['acme']);
    expect([...between.operations.get('acme')!.keys()].sort()).toEqual([GET_PRODUCT.id, TOP.id].sort());
    expect(between.operations.has('web')).toBe(false);
    // Its manifest published again: that is what counts now.
    await store.publishManifest('acme', 'catalog', [TOP]);
    expect([...(await store.load()).operations.get('acme')!.keys()]).toEqual([TOP.id]);
  });

  it('notices a Redis that lost its data and was written back to the version it had, while no poll saw it empty', async () => {
    const prefix = `test:pq:${randomUUID()}:`;
    prefixes.push(prefix);
    const writer = createRedisStore(TEST_REDIS_URL, { prefix });
    const replica = createRedisStore(TEST_REDIS_URL, { prefix, pollIntervalMs: 100 });
    open.push(writer, replica);
    await writer.putClient(client('acme', null));
    await replica.load();
    const change = changes(replica);
    // Lost and written again as a restarted Redis would be: the same version (1), other data,
    // and the pub/sub message of the write lost as well, so only the poll can notice.
    await redis.del(...(await redis.keys(`${prefix}*`)));
    await redis.multi().hset(`${prefix}clients`, 'other', JSON.stringify(client('other', null))).incr(`${prefix}version`).set(`${prefix}stamp`, randomUUID()).exec();
    await change.done;
    change.stop();
  });

  it('refuses a URL that is not redis://', () => {
    expect(() => createRedisStore('http://127.0.0.1:6379')).toThrow(/redisUrl: expected a redis:\/\/ or rediss:\/\/ URL/);
  });

  it('openPersistedStore uses Redis when given a URL, else the directory', async () => {
    const prefix = `test:pq:${randomUUID()}:`;
    prefixes.push(prefix);
    const dir = await mkdtemp(join(tmpdir(), 'shop-pq-open-'));
    dirs.push(dir);
    const viaRedis = openPersistedStore({ redisUrl: TEST_REDIS_URL, redisPrefix: prefix, dir });
    open.push(viaRedis);
    await viaRedis.putClient(client('acme', null));
    expect(await redis.hget(`${prefix}clients`, 'acme')).toContain('"acme"');
    const viaDir = openPersistedStore({ dir });
    open.push(viaDir);
    await viaDir.putClient(client('local', null));
    expect(JSON.parse(await readFile(join(dir, 'clients.json'), 'utf8'))).toHaveProperty('local');
  });
});

describe('manifest parsing', () => {
  it('names the operation, its index and field of every problem', () => {
    const text = JSON.stringify({
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [TOP, { ...GET_PRODUCT, type: 'mutate' }, { id: 'x', name: 'NoBody', type: 'query' }],
    });
    const error = (() => {
      try {
        parseManifest(text, 'partner.json');
      } catch (e) {
        return e as PersistedError;
      }
    })();
    expect(error?.code).toBe('MANIFEST_INVALID');
    expect(error?.problems).toEqual([
      'operations[1].type (GetProduct): type must be one of query, mutation, subscription',
      expect.stringMatching(/^operations\[2\]\.body \(NoBody\): /),
    ]);
    expect(error?.message).toMatch(/^partner\.json is not a valid persisted query manifest/);
  });

  it('refuses other formats and broken JSON', () => {
    expect(() => parseManifest('{"format":"something-else","version":2,"operations":[]}')).toThrow(/format: format must be "apollo-persisted-query-manifest"[\s\S]*version: version must be 1/);
    expect(() => parseManifest('{"format":')).toThrow(expect.objectContaining({ code: 'MANIFEST_INVALID_JSON' }));
  });
});

describe('operation validation', () => {
  let supergraphSdl: string;
  beforeAll(async () => {
    const result = await composeSupergraph(await readSupergraphConfig(SUPERGRAPH_YAML));
    if (!result.ok) throw new Error('supergraph.yaml does not compose');
    supergraphSdl = result.supergraphSdl;
  });

  it('returns each failing operation with its GraphQL messages', () => {
    const schema = apiSchemaFromSupergraph(supergraphSdl);
    const failures = validateOperations(schema, [
      GET_PRODUCT,
      op('Unknown', 'query Unknown { product(upc: "1") { colour } }'),
      { ...op('Typed', 'query Typed { me { id } }'), type: 'mutation' },
      TOP,
      op('Broken', 'query Broken { me { id }'),
      op('Two', 'query A { me { id } } query B { me { id } }'),
      op('Named', 'query Other { me { id } }'),
    ]);
    expect(failures.map((f) => [f.index, f.name])).toEqual([
      [1, 'Unknown'],
      [2, 'Typed'],
      [4, 'Broken'],
      [5, 'Two'],
      [6, 'Named'],
    ]);
    expect(failures[0]!.messages).toEqual(['Cannot query field "colour" on type "Product". (line 1, column 37)']);
    expect(failures[1]!.messages).toEqual(['type is "mutation" but the document is a query']);
    expect(failures[2]!.messages[0]).toMatch(/^Syntax Error/);
    expect(failures[3]!.messages).toContain('the body must hold exactly one operation, found 2');
    expect(failures[4]!.messages).toEqual(['name is "Named" but the document\'s operation is named "Other"']);

    const duplicate = validateOperations(schema, [TOP, TOP]);
    expect(duplicate).toEqual([{ index: 1, id: TOP.id, name: 'Top', messages: [`id ${TOP.id} is also the id of operations[0] (Top); ids must be unique`] }]);
  });

  it('refuses a supergraph that does not load', () => {
    expect(() => apiSchemaFromSupergraph('type Query { a: Int }')).toThrow(expect.objectContaining({ code: 'SUPERGRAPH_INVALID' }));
  });

  it('publishes all or nothing, and reports the published operations a supergraph breaks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shop-pq-publish-'));
    dirs.push(dir);
    const store = createFileStore(dir);
    const schema = apiSchemaFromSupergraph(supergraphSdl);
    await store.putClient(client('acme', null));

    const refused = await publishChecked(store, schema, { client: 'acme', manifest: 'catalog', operations: [TOP, op('Bad', 'query Bad { nope }')] });
    expect(refused).toMatchObject({ published: false, failures: [{ index: 1, name: 'Bad' }] });
    expect(await store.listManifests()).toEqual([]);

    const description = op('Description', 'query Description { product(upc: "1") { description } }');
    expect(await publishChecked(store, schema, { client: 'acme', manifest: 'catalog', operations: [TOP, description] })).toEqual({ published: true, operations: 2 });
    expect(await checkPublishedOperations(supergraphSdl, store)).toEqual([]);

    // A supergraph without Product.description breaks the published Description operation.
    // The field and its description, if it has one.
    const changed = supergraphSdl.replace(/\n(\s*"{3}[^"]*"{3}\n)?\s*description: String!.*\n/, '\n');
    expect(changed).not.toBe(supergraphSdl);
    const broken = await checkPublishedOperations(changed, store);
    expect(broken).toEqual([
      { client: 'acme', manifest: 'catalog', operationName: 'Description', operationId: description.id, messages: [expect.stringMatching(/Cannot query field "description" on type "Product"/)] },
    ]);

    // The same id with another body in a second manifest would shadow the first one.
    const clash = await publishChecked(store, schema, { client: 'acme', manifest: 'other', operations: [{ ...TOP, body: 'query Top { topProducts { upc } }' }] });
    expect(clash).toMatchObject({ published: false, failures: [{ messages: [`id ${TOP.id} is already published in manifest "catalog" with a different body`] }] });
  });
});

describe('clients', () => {
  it('stores only the hash of a fresh key, refuses a second add, and rotates on request', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shop-pq-clients-'));
    dirs.push(dir);
    const store = createFileStore(dir);
    const added = await addClient(store, { name: 'acme' });
    expect(added.apiKey).toMatch(/^shop_[A-Za-z0-9_-]{43}$/);
    expect(added.client).toMatchObject({ name: 'acme', policy: 'enforce', apiKeyHash: hashApiKey(added.apiKey!) });
    expect(await readFile(join(dir, 'clients.json'), 'utf8')).not.toContain(added.apiKey!);

    expect(await codeOf(addClient(store, { name: 'acme' }))).toBe('CLIENT_EXISTS');
    const rotated = await addClient(store, { name: 'acme', rotateKey: true });
    expect(rotated.apiKey).not.toBe(added.apiKey);
    expect(rotated.client.createdAt).toBe(added.client.createdAt);
    expect((await store.load()).clientsByKeyHash.has(hashApiKey(added.apiKey!))).toBe(false);

    expect((await setClientPolicy(store, 'acme', 'log')).policy).toBe('log');
    expect(await codeOf(setClientPolicy(store, 'nobody', 'log'))).toBe('UNKNOWN_CLIENT');
    expect((await addClient(store, { name: 'web', tokenOnly: true })).client.apiKeyHash).toBeNull();
  });
});
