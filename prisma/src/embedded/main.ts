// node --import tsx prisma/src/embedded/main.ts [--data-dir DIR] [--host H] [--port BASE] [--migrate] [--seed]
//
// Runs the embedded Postgres (five PGlite instances) as its own process, for the stack
// launcher to spawn. Protocol: once everything listens (and is migrated/seeded if asked), one
// JSON line goes to stdout: {"urls":{"accounts":"postgres://...",...},"startupMs":N}.
// Everything else goes to stderr. SIGTERM / SIGINT (or the parent's IPC channel closing)
// stops the servers and closes PGlite cleanly (so its data directory stays consistent).
import path from 'node:path';
import { parseArgs } from 'node:util';
import { prepareDatabases } from '../index.ts';
import { seed } from '../seed/index.ts';
import { PRISMA_ROOT } from '../subgraphs.ts';
import { startEmbeddedPostgres } from './index.ts';

const DEFAULT_DATA_DIR = path.join(PRISMA_ROOT, '..', '.data', 'pglite');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '54320' },
      migrate: { type: 'boolean', default: false },
      seed: { type: 'boolean', default: false },
    },
  });
  const basePort = Number(values.port);
  if (!Number.isInteger(basePort) || basePort < 0 || basePort > 65535 - 4) {
    throw new Error(`--port must be a port number (or 0 for ephemeral ports), got "${values.port}"`);
  }
  const started = performance.now();
  const pg = await startEmbeddedPostgres({ dataDir: path.resolve(values['data-dir']), host: values.host, basePort });

  let stopping = false;
  const shutdown = (reason: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`embedded postgres: stopping (${reason})`);
    const t = performance.now();
    pg.stop().then(
      () => {
        console.error(`embedded postgres: stopped in ${Math.round(performance.now() - t)} ms`);
        process.exit(0);
      },
      (error: unknown) => {
        console.error('embedded postgres: error while stopping:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // Spawned with an IPC channel: if the parent dies without signalling, do not linger.
  if (process.send) process.on('disconnect', () => shutdown('parent disconnected'));

  try {
    if (values.migrate || values.seed) await prepareDatabases(pg.urls, { createDatabases: false });
    if (values.seed) await seed(pg.urls);
  } catch (error) {
    await pg.stop();
    throw error;
  }
  process.stdout.write(JSON.stringify({ urls: pg.urls, startupMs: Math.round(performance.now() - started) }) + '\n');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
