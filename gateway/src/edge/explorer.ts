import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { HeaderMap } from '@apollo/server';
import type { Logger } from '@shop/observability';
import { HttpError, sendHttpError, type RequestHandler } from '@shop/service-kit';
import type { Stage } from '../exchange.ts';
import { buildExplorer, explorerBuildKey, type ExplorerBuildPaths } from './explorer-build.ts';

/** Where the page's files are served: `/explorer/<build key>/<file>`, so a new build is a new URL. */
export const EXPLORER_ASSET_ROUTE = '/explorer/*';
const ASSET_PREFIX = '/explorer/';

/**
 * Only this gateway's own files run on the page and it talks only to this gateway. Styles may be
 * inline, scripts may not: Monaco and GraphiQL set style attributes and add <style> elements as
 * they lay out (the browser test fails on any violation, and does with `style-src 'self'`); fonts
 * and icons are files or data: URIs in GraphiQL's CSS.
 */
export const EXPLORER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "worker-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

interface Asset {
  body: Buffer;
  contentType: string;
}

export interface ExplorerAssets {
  key: string;
  files: ReadonlyMap<string, Asset>;
}

/**
 * The explorer's files, loaded once on first use. Outside production they are built when the
 * sources or the locked packages changed (a few seconds, once per change: later starts find the
 * build); production only serves the build `npm run build` made, and fails without one.
 */
export function explorerAssets(paths: ExplorerBuildPaths, options: { build: boolean; logger: Logger }): () => Promise<ExplorerAssets> {
  let loading: Promise<ExplorerAssets> | null = null;
  const load = async (): Promise<ExplorerAssets> => {
    const key = options.build ? await explorerBuildKey(paths) : await latestKey(paths);
    const dir = join(paths.assets, key);
    let manifest = await readManifest(dir);
    if (!manifest && options.build) {
      const started = performance.now();
      await buildExplorer(paths, key);
      options.logger.info({ key, ms: Math.round(performance.now() - started) }, 'explorer built');
      manifest = await readManifest(dir);
    }
    if (!manifest) throw new Error(`the explorer's build ${key} is missing from ${paths.assets}: run npm run build`);
    const files = new Map<string, Asset>();
    for (const name of manifest.files) {
      const contentType = CONTENT_TYPES[extname(name)];
      if (contentType) files.set(name, { body: await readFile(join(dir, name)), contentType });
    }
    return { key, files };
  };
  return () => {
    // A failed load is tried again on the next request (a build can fail on a full disk, then succeed).
    loading ??= load().catch((error: unknown) => {
      loading = null;
      throw error;
    });
    return loading;
  };
}

async function latestKey(paths: ExplorerBuildPaths): Promise<string> {
  try {
    const { key } = JSON.parse(await readFile(join(paths.assets, 'latest.json'), 'utf8')) as { key: string };
    return key;
  } catch {
    throw new Error(`the explorer has no build in ${paths.assets}: run npm run build (or set EXPLORER=false)`);
  }
}

async function readManifest(dir: string): Promise<{ files: string[] } | null> {
  try {
    return JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { files: string[] };
  } catch {
    return null;
  }
}

/** A browser asks for a page; GraphQL clients ask for JSON (GraphQL over HTTP). */
function wantsPage(method: string | undefined, accept: string | undefined): boolean {
  return method === 'GET' && accept !== undefined && /(^|,)\s*text\/html\b/i.test(accept);
}

/**
 * GraphiQL for a browser's GET /graphql (Accept: text/html), everything else on to GraphQL. The
 * page is small and names its files by build key, so it is never cached and they always are.
 */
export function explorer(assets: () => Promise<ExplorerAssets>): Stage {
  return async (exchange, next) => {
    const { req } = exchange;
    if (!wantsPage(req.method, req.headers.accept)) return next();
    const { key } = await assets();
    return {
      status: 200,
      headers: new HeaderMap([
        ['content-type', 'text/html; charset=utf-8'],
        ['cache-control', 'no-cache'],
        ['vary', 'accept'],
        ['content-security-policy', EXPLORER_CSP],
        ['x-content-type-options', 'nosniff'],
        ['referrer-policy', 'no-referrer'],
      ]),
      body: { kind: 'complete', string: page(key) },
    };
  };
}

function page(key: string): string {
  const base = `${ASSET_PREFIX}${key}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shop supergraph explorer</title>
<link rel="stylesheet" href="${base}/app.css">
<script type="module" src="${base}/app.js"></script>
</head>
<body><div id="explorer"></div></body>
</html>
`;
}

/** Serves the page's files: immutable under their build key; anything else under /explorer/ is 404. */
export function explorerAssetRoute(assets: () => Promise<ExplorerAssets>): RequestHandler {
  return async (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const [key, name, ...rest] = path.slice(ASSET_PREFIX.length).split('/');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendHttpError(res, new HttpError(405, 'METHOD_NOT_ALLOWED', 'The explorer\'s files are read with GET.', { allow: 'GET, HEAD' }));
    }
    const current = await assets();
    const asset = key === current.key && name !== undefined && rest.length === 0 ? current.files.get(name) : undefined;
    if (!asset) return sendHttpError(res, new HttpError(404, 'NOT_FOUND', `No explorer file at ${path}; reload the explorer page.`));
    res.writeHead(200, {
      'content-type': asset.contentType,
      'content-length': asset.body.length,
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
      'content-security-policy': EXPLORER_CSP,
    });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  };
}
