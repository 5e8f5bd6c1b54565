import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEntry } from '../src/bundle.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shop-bundle-'));
  await mkdir(join(dir, 'src'));
  await writeFile(join(dir, 'package.json'), '{"type":"module"}');
  await writeFile(join(dir, 'src', 'main.ts'), "export const loaded = await import('./later.ts').then((m) => m.value);\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const chunks = async () => (await readdir(join(dir, 'dist'))).filter((name) => /^later-.*\.js$/.test(name));

describe('bundleEntry', () => {
  it('puts a dynamic import in a chunk of its own, and a rebuild leaves no stale chunk behind', async () => {
    await writeFile(join(dir, 'src', 'later.ts'), 'export const value = 1;\n');
    const outfile = await bundleEntry(join(dir, 'src', 'main.ts'), join(dir, 'dist', 'main.js'));
    const first = await chunks();
    expect(first).toHaveLength(1);

    await writeFile(join(dir, 'src', 'later.ts'), 'export const value = 2;\n');
    await bundleEntry(join(dir, 'src', 'main.ts'), outfile);
    const second = await chunks();
    expect(second).toHaveLength(1);
    expect(second[0]).not.toBe(first[0]);
    expect((await readdir(join(dir, 'dist'))).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    const bundled = (await import(`${pathToFileURL(outfile).href}?v=2`)) as { loaded: number };
    expect(bundled.loaded).toBe(2);
  });
});
