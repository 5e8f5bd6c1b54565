import { chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@shop/test-support';
import { onCleanup } from './cleanup.ts';
import { run } from './exec.ts';

/**
 * A PostgreSQL cluster of this run only (initdb into a temporary directory, its own free port and
 * socket directory), so that stopping and restarting it under load harms nobody else: the
 * machine's shared server on 5432 is never touched.
 */
export interface OwnPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`, trust authentication. */
  serverUrl: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

const POSTGRES_USER = 'postgres';

async function postgresBin(): Promise<string> {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? (await readdir(root)).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const bin = join(root, version, 'bin');
    if (existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  throw new Error(
    'PostgreSQL server binaries not found under /usr/lib/postgresql/<version>/bin: install them (`apt-get install -y postgresql`).',
  );
}

/** PostgreSQL refuses to run as root: as root, its commands run as the postgres user. */
function asPostgres(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', POSTGRES_USER, '--', command, ...args]] : [command, args];
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const bin = await postgresBin();
  const dir = await mkdtemp(join(tmpdir(), 'shop-chaos-pg-'));
  onCleanup('PostgreSQL directory', () => rm(dir, { recursive: true, force: true }));
  if (process.getuid?.() === 0) {
    const { uid, gid } = await userIds(POSTGRES_USER);
    await chown(dir, uid, gid);
  }
  const dataDir = join(dir, 'data');
  const port = await freePort();
  const pgCtl = (...args: string[]) => {
    const [command, argv] = asPostgres(join(bin, 'pg_ctl'), ['-D', dataDir, ...args]);
    return run(command, argv, { timeoutMs: 60_000 });
  };
  {
    const [command, argv] = asPostgres(join(bin, 'initdb'), ['-D', dataDir, '-U', POSTGRES_USER, '--auth=trust', '--no-sync', '-E', 'UTF8']);
    await run(command, argv);
  }
  // Durability is not under test (a fast shutdown flushes anyway); fsync off keeps seeding quick on shared disks.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const start = async () => {
    await pgCtl('start', '-w', '-t', '60', '-l', join(dir, 'server.log'), '-o', options);
  };
  const stop = async () => {
    await pgCtl('stop', '-m', 'fast', '-w', '-t', '60');
  };
  await start();
  onCleanup('PostgreSQL server', async () => {
    // Already stopped (mid-fault) is fine.
    await pgCtl('stop', '-m', 'immediate', '-w').catch(() => {});
  });
  return { serverUrl: `postgres://${POSTGRES_USER}@127.0.0.1:${port}/postgres`, port, start, stop };
}

async function userIds(user: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', user]), run('id', ['-g', user])]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}
