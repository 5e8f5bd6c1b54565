import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { build, type Plugin } from 'esbuild';

/**
 * Services run as plain JavaScript: each service's `src/main.ts` bundled with its workspace
 * packages into `dist/main.js`, node_modules left as they are. Running TypeScript through tsx
 * costs every process a module-loader thread with its own V8 heap and the transpiled sources'
 * maps, tens of MB of RSS per process (measured in the README), and transpiles every module
 * again at each start.
 *
 * `dist/` sits beside `src/` at the same depth, so paths resolved from `import.meta.url` inside a
 * package (`../schema.graphql`, `../supergraph.graphql`) mean the same file in both.
 */
export function bundleService(packageDir: string): Promise<string> {
  return bundleEntry(join(packageDir, 'src', 'main.ts'), join(packageDir, 'dist', 'main.js'));
}

/**
 * One TypeScript entry module and the workspace code it imports, as an ES module at `outfile` (the
 * code of its dynamic imports in chunks beside it),
 * which must sit in `dist/` of the package the entry belongs to (dependencies resolve from there).
 */
export async function bundleEntry(entry: string, outfile: string): Promise<string> {
  const packageDir = dirname(dirname(outfile));
  const result = await build({
    entryPoints: [entry],
    // Code splitting: a dynamic import is its own file, loaded only when it runs. The gateway's
    // entry applies its node flags before it imports the service (packages/service-kit/src/node-flags.ts); in
    // one file, the service's npm imports would be hoisted and loaded first.
    outdir: dirname(outfile),
    entryNames: basename(outfile, '.js'),
    chunkNames: '[name]-[hash]',
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Stack traces stay readable with NODE_OPTIONS=--enable-source-maps; without it Node never reads the map.
    sourcemap: 'linked',
    logLevel: 'warning',
    plugins: [dependenciesStayExternal(packageDir, dirname(outfile))],
    write: false,
  });
  // Each file written whole, then renamed into place: several builds of one service may run at
  // once (test files, npm start), and a process starting meanwhile must never read a half-written
  // file. Chunks first, the entry last, so the entry never names a chunk not yet there.
  await mkdir(dirname(outfile), { recursive: true });
  const entryPath = resolve(outfile);
  const files = [...result.outputFiles].sort((a, b) => Number(a.path === entryPath) - Number(b.path === entryPath));
  for (const file of files) {
    const temporary = `${file.path}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(temporary, file.contents);
    await rename(temporary, file.path);
  }
  await removeStaleChunks(dirname(outfile), files.map((file) => file.path));
  return outfile;
}

/**
 * Chunk names carry a content hash, so every change of the code leaves the previous chunk behind:
 * the older versions of this build's own chunks (same name, another hash) are removed. A process
 * already running has imported its chunk at start; other entries' chunks in the directory are left.
 */
async function removeStaleChunks(dir: string, written: string[]): Promise<void> {
  const current = new Set(written.map((path) => basename(path)));
  const prefixes = new Set([...current].map((name) => /^(.+-)[A-Z0-9]{8}\.js$/.exec(name)?.[1]).filter((prefix): prefix is string => prefix !== undefined));
  for (const name of await readdir(dir)) {
    const match = /^(.+-)[A-Z0-9]{8}\.js(\.map)?$/.exec(name);
    if (match && prefixes.has(match[1]!) && !current.has(name)) await rm(join(dir, name), { force: true });
  }
}

/**
 * Packages from npm are imported at run time from node_modules as Node resolves them (their own
 * CommonJS/ESM shapes, native parts, files read beside them); only the workspace's own packages,
 * which are TypeScript sources, are bundled. A bundled workspace package may depend on another
 * version of a package than the service does (observability's OpenTelemetry 2.x in its own
 * node_modules, beside the 1.x that @apollo/gateway brings to the root): such an import points at
 * the file the workspace package would have loaded, not at the name, which from `dist/` would
 * find the other version.
 */
function dependenciesStayExternal(packageDir: string, outDir: string): Plugin {
  return {
    name: 'dependencies-stay-external',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.path.startsWith('@shop/') || args.pluginData === RESOLVING) return undefined;
        if (isBuiltin(args.path) || args.resolveDir.startsWith(packageDir + sep)) return { path: args.path, external: true };
        const resolve = (resolveDir: string) => pluginBuild.resolve(args.path, { kind: args.kind, resolveDir, pluginData: RESOLVING });
        const [fromImporter, fromService] = await Promise.all([resolve(args.resolveDir), resolve(packageDir)]);
        if (fromImporter.errors.length > 0 || fromImporter.path === fromService.path) return { path: args.path, external: true };
        let relativePath = relative(outDir, fromImporter.path).split(sep).join('/');
        if (!relativePath.startsWith('.')) relativePath = `./${relativePath}`;
        return { path: relativePath, external: true };
      });
    },
  };
}

const RESOLVING = Symbol('resolving');
