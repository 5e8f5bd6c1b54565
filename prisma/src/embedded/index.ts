// Zero-install Postgres for development and tests: one PGlite (Postgres 17 compiled to wasm)
// per subgraph, each served over the Postgres wire protocol by @electric-sql/pglite-socket,
// so the subgraphs, migrations, seed and psql connect to it with ordinary `pg` URLs exactly as
// to a real server. One instance per subgraph (not five databases in one) because a PGlite
// instance has a single database, `postgres`; it also mirrors "each subgraph owns its database".
import { existsSync } from 'node:fs';
import { cp, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { mapSubgraphs, SUBGRAPHS, type SubgraphName } from '../subgraphs.ts';
import { installSessionQueue } from './session-queue.ts';

export interface EmbeddedPostgresOptions {
  /** Each subgraph's data lives in `<dataDir>/<name>` and persists across restarts. */
  dataDir: string;
  /** Interface to listen on. Default 127.0.0.1 (never expose PGlite: it accepts any user). */
  host?: string;
  /**
   * Subgraph i listens on basePort + i (default 54320..54324, clear of a real Postgres on
   * 5432). 0 picks free ephemeral ports; the URLs carry the real ones.
   */
  basePort?: number;
  /**
   * Socket connections accepted per instance (default 32). PGlite runs one query at a time
   * whatever this is; the server queues them (keeping a connection's extended-protocol exchange
   * and its transaction together, see session-queue.ts), so this only has to exceed what the
   * pools of all clients may open.
   */
  maxConnections?: number;
  /** Log the socket server's protocol handling (noisy). */
  debug?: boolean;
}

export interface EmbeddedPostgres {
  urls: Record<SubgraphName, string>;
  /** Per subgraph: milliseconds from start to accepting connections. */
  startupMs: Record<SubgraphName, number>;
  stop(): Promise<void>;
}

interface Instance {
  db: PGlite;
  server: PGLiteSocketServer;
  url: string;
  ms: number;
}

const DEFAULT_BASE_PORT = 54320;

async function startInstance(
  name: SubgraphName,
  dataDir: string,
  host: string,
  port: number,
  opts: EmbeddedPostgresOptions,
): Promise<Instance> {
  const started = performance.now();
  const dir = path.join(dataDir, name);
  // A plain directory path selects PGlite's Node filesystem, persisted on disk.
  const db = await PGlite.create({ dataDir: dir });
  const server = new PGLiteSocketServer({
    db,
    host,
    port,
    maxConnections: opts.maxConnections ?? 32,
    ...(opts.debug ? { debug: true } : {}),
  });
  installSessionQueue(server, db);
  try {
    await server.start();
  } catch (error) {
    await db.close();
    const code = (error as { code?: string }).code;
    throw new Error(
      code === 'EADDRINUSE'
        ? `Embedded Postgres for ${name}: ${host}:${port} is in use (another embedded stack running? use another basePort, or 0)`
        : `Embedded Postgres for ${name} failed to listen on ${host}:${port}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  // getServerConn() reports the bound address, so port 0 resolves to the real port.
  const bound = server.getServerConn();
  const actualPort = Number(bound.slice(bound.lastIndexOf(':') + 1));
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return { db, server, url: `postgres://postgres@${urlHost}:${actualPort}/postgres`, ms: Math.round(performance.now() - started) };
}

async function stopInstance(instance: Instance): Promise<void> {
  await instance.server.stop();
  if (!instance.db.closed) await instance.db.close();
}

function isInitialised(dir: string): boolean {
  return existsSync(path.join(dir, 'PG_VERSION'));
}

/**
 * First start: initdb inside PGlite takes ~5 s of CPU per instance on the one JS thread, so
 * five in parallel took ~14 s. Instead we initialise one cluster, shut it down cleanly, and
 * copy its data directory for every subgraph that has none (a cold Postgres data directory
 * does not depend on its path). Each copy is made under a temporary name and renamed into
 * place, so an interrupted first start never leaves a half-copied directory behind.
 */
async function initialiseMissing(dataDir: string): Promise<void> {
  const missing = SUBGRAPHS.map((name) => path.join(dataDir, name)).filter((dir) => !isInitialised(dir));
  if (missing.length === 0) return;
  await mkdir(dataDir, { recursive: true });
  const template = path.join(dataDir, `.template-${process.pid}`);
  await rm(template, { recursive: true, force: true });
  try {
    const db = await PGlite.create({ dataDir: template });
    await db.close();
    for (const dir of missing) {
      const partial = `${dir}.partial-${process.pid}`;
      await rm(partial, { recursive: true, force: true });
      await cp(template, partial, { recursive: true });
      // A directory left empty (e.g. created by hand) would block the rename.
      await rm(dir, { recursive: true, force: true });
      await rename(partial, dir);
    }
  } finally {
    await rm(template, { recursive: true, force: true });
  }
}

/** Starts the five instances (in parallel) and returns their connection URLs. */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const host = opts.host ?? '127.0.0.1';
  const basePort = opts.basePort ?? DEFAULT_BASE_PORT;
  await initialiseMissing(opts.dataDir);
  const settled = await Promise.allSettled(
    SUBGRAPHS.map((name, i) => startInstance(name, opts.dataDir, host, basePort === 0 ? 0 : basePort + i, opts)),
  );
  const instances = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) {
    // Do not leave half a stack running (and its data directories locked).
    await Promise.allSettled(instances.map(stopInstance));
    throw failure.reason;
  }
  let stopping: Promise<void> | undefined;
  return {
    urls: mapSubgraphs((_, i) => instances[i]!.url),
    startupMs: mapSubgraphs((_, i) => instances[i]!.ms),
    stop: () => {
      // Idempotent: a SIGTERM racing a normal shutdown must not close PGlite twice.
      stopping ??= Promise.allSettled(instances.map(stopInstance)).then((results) => {
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      });
      return stopping;
    },
  };
}
