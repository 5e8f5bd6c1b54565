import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copySupergraphSources, SUPERGRAPH_YAML } from '@shop/test-support';
import { composeSupergraph } from '../src/compose.ts';
import { readSupergraphConfig, SupergraphConfigError } from '../src/supergraph-config.ts';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(repo, 'tools/supergraph/src/cli.ts');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shop-compose-'));
  await copySupergraphSources(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('composition', () => {
  it('composes the five subgraphs of supergraph.yaml', async () => {
    const config = await readSupergraphConfig(SUPERGRAPH_YAML);
    expect(config.subgraphs.map((s) => s.name)).toEqual(['accounts', 'products', 'inventory', 'reviews', 'orders']);
    const result = await composeSupergraph(config);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.supergraphSdl).toContain('@join__graph(name: "inventory", url: "http://127.0.0.1:4003/graphql")');
    expect(result.supergraphSdl).toContain('shippingEstimate: Int @join__field(graph: INVENTORY, requires: "price weight")');
  });

  it('uses routing URL overrides, e.g. ephemeral test ports', async () => {
    const config = await readSupergraphConfig(SUPERGRAPH_YAML);
    const result = await composeSupergraph(config, { routingUrls: { accounts: 'http://10.1.2.3:9999/graphql' } });
    expect(result.ok && result.supergraphSdl).toContain('url: "http://10.1.2.3:9999/graphql"');
  });

  it('names the subgraph of a composition error', async () => {
    // inventory declares price as a String while products owns it as an Int.
    const file = join(dir, 'subgraphs/inventory/schema.graphql');
    const original = await readFile(file, 'utf8');
    await writeFile(file, original.replace('price: Int! @external', 'price: String! @external'));
    try {
      const result = await composeSupergraph(await readSupergraphConfig(join(dir, 'supergraph.yaml')));
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.errors.length).toBeGreaterThan(0);
      expect(result.errors.flatMap((e) => e.subgraphs)).toContain('inventory');
      expect(result.errors[0]!.code).toMatch(/^[A-Z_]+$/);
    } finally {
      await writeFile(file, original);
    }
  });

  it('reports a subgraph schema that is not valid GraphQL with its file and line', async () => {
    const file = join(dir, 'subgraphs/reviews/schema.graphql');
    const original = await readFile(file, 'utf8');
    await writeFile(file, `${original}\ntype Broken {\n`);
    try {
      const result = await composeSupergraph(await readSupergraphConfig(join(dir, 'supergraph.yaml')));
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.errors[0]).toMatchObject({ subgraphs: ['reviews'], code: 'INVALID_GRAPHQL' });
      expect(result.errors[0]!.message).toMatch(/reviews\/schema\.graphql:\d+:\d+: Syntax Error/);
    } finally {
      await writeFile(file, original);
    }
  });

  it('refuses an invalid supergraph.yaml with the bad key named', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'federation_version: 1\nsubgraphs:\n  accounts:\n    routing_url: not-a-url\n    schema: {}\n');
    const error = await readSupergraphConfig(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SupergraphConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/federation_version: federation_version must be Federation 2/);
    expect(message).toMatch(/subgraphs\.accounts\.routing_url: routing_url must be an http\(s\) URL/);
    expect(message).toMatch(/subgraphs\.accounts\.schema\.file/);
  });

  it('npm run compose writes the supergraph, or prints each error with its subgraph and exits non-zero', async () => {
    const output = join(dir, 'supergraph.graphql');
    const ok = await run(process.execPath, ['--import', 'tsx', cli, '--config', join(dir, 'supergraph.yaml'), '--output', output], { cwd: repo });
    expect(ok.stdout).toMatch(/Composed 5 subgraphs/);
    expect(await readFile(output, 'utf8')).toContain('join__Graph');

    const file = join(dir, 'subgraphs/products/schema.graphql');
    const original = await readFile(file, 'utf8');
    await writeFile(file, original.replace('type Product @key(fields: "upc")', 'type Product @key(fields: "sku")'));
    try {
      const failed = await run(process.execPath, ['--import', 'tsx', cli, '--config', join(dir, 'supergraph.yaml'), '--output', output], { cwd: repo }).then(
        () => null,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failed?.code).toBe(1);
      expect(failed?.stderr).toMatch(/Composition failed with \d+ error/);
      expect(failed?.stderr).toMatch(/\[products\]/);
    } finally {
      await writeFile(file, original);
    }
  });
});
