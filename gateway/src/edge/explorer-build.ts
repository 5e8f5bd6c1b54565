import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where the explorer's page script comes from and where its build goes. */
export interface ExplorerBuildPaths {
  /** The browser sources (gateway/explorer/). */
  sources: string;
  /** Builds are kept here, one directory per key; `latest.json` names the last one made. */
  assets: string;
  /** The lockfile: a new GraphiQL, Monaco or React version makes a new key. */
  lockfile: string;
}

/** Bump when the build's own settings below change, so older builds are not served. */
const BUILD_VERSION = 1;

/**
 * A name for what a build is made of: the browser sources, the locked package versions and these
 * settings. The same key means the same files, so they are served under it with long cache headers.
 */
export async function explorerBuildKey(paths: ExplorerBuildPaths): Promise<string> {
  const hash = createHash('sha256').update(`explorer-build ${BUILD_VERSION}\n`);
  for (const name of (await readdir(paths.sources)).sort()) {
    hash.update(`${name}\n`).update(await readFile(join(paths.sources, name)));
  }
  hash.update(await readFile(paths.lockfile));
  return hash.digest('hex').slice(0, 16);
}

/**
 * Bundles GraphiQL, React and Monaco with the page script into `<assets>/<key>/`: `app.js` and
 * `app.css`, Monaco's workers (`editor`, `json`, `graphql`) as their own files, and the fonts the
 * CSS names, all to be served by the gateway itself. Built into a temporary directory and renamed
 * into place, so gateways building at once (parallel tests) never serve half a build.
 */
export async function buildExplorer(paths: ExplorerBuildPaths, key: string): Promise<string> {
  // esbuild is a development dependency: production serves what `npm run build` made.
  const { build } = await import('esbuild');
  const target = join(paths.assets, key);
  await mkdir(paths.assets, { recursive: true });
  const staging = await mkdtemp(join(paths.assets, `.build-${key}-`));
  try {
    await build({
      entryPoints: {
        app: join(paths.sources, 'app.tsx'),
        'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
        'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
        'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
      },
      absWorkingDir: paths.sources,
      outdir: staging,
      entryNames: '[name]',
      assetNames: '[name]-[hash]',
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      jsx: 'automatic',
      define: { 'process.env.NODE_ENV': '"production"' },
      loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file', '.png': 'file' },
      logLevel: 'error',
    });
    await writeFile(join(staging, 'manifest.json'), JSON.stringify({ key, files: (await readdir(staging)).sort() }));
    try {
      await rename(staging, target);
    } catch (error) {
      // Another process finished the same build first: its files are the same.
      if ((error as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    await writeFile(join(paths.assets, 'latest.json'), JSON.stringify({ key }));
    // Older builds go (7 MB each): a gateway serving one holds its files in memory, and builds under way are dot-directories.
    for (const entry of await readdir(paths.assets, { withFileTypes: true })) {
      if (entry.isDirectory() && entry.name !== key && /^[0-9a-f]{16}$/.test(entry.name)) await rm(join(paths.assets, entry.name), { recursive: true, force: true });
    }
    return target;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
