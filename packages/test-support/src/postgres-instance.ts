import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';

/**
 * A PostgreSQL cluster of its own (initdb into a temporary directory, a free loopback port, its
 * socket in that directory), for tests and tools that stop and restart the database under load:
 * the machine's shared server on 5432 is never touched, other runs use it.
 */
export interface PostgresInstance {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`, trust authentication. */
  readonly serverUrl: string;
  readonly port: number;
  /** `pg_ctl stop -m fast`: sessions are terminated (57P01) and new connections refused until `start()`. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data, and waits until it accepts connections. */
  start(): Promise<void>;
  /**
   * SIGSTOP to the server and every one of its processes: connections stay open (the kernel
   * still accepts new ones) and nothing is answered, as a hung server, until `resume()`.
   */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Stops it (immediately, also when already stopped) and removes its directory. */
  destroy(): Promise<void>;
  /** The server's own log so far, to show why something failed. */
  log(): Promise<string>;
}

const POSTGRES_USER = 'postgres';
const execFileAsync = promisify(execFile);

/** Runs a command to completion; the error carries its output, which says why it failed. */
async function run(command: string, args: string[], timeoutMs = 60_000): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${(error as Error).message}\n${stdout}${stderr}`.trim(), { cause: error });
  }
}

/** The newest installed server's binaries (Debian's layout: /usr/lib/postgresql/<version>/bin). */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const bin = join(root, version, 'bin');
    if (existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql/<version>/bin: install them (`apt-get install -y postgresql`).');
}

const asRoot = () => process.getuid?.() === 0;

/** PostgreSQL refuses to run as root: as root, its commands run as the postgres user. */
function asPostgres(command: string, args: string[]): [string, string[]] {
  return asRoot() ? ['runuser', ['-u', POSTGRES_USER, '--', command, ...args]] : [command, args];
}

export async function startPostgresInstance(options: { prefix?: string } = {}): Promise<PostgresInstance> {
  const bin = postgresBin();
  const dir = await mkdtemp(join(tmpdir(), `${options.prefix ?? 'shop-pg'}-`));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const pgCtlArgs = (...args: string[]) => asPostgres(join(bin, 'pg_ctl'), ['-D', dataDir, ...args]);
  const pgCtl = (...args: string[]) => {
    const [command, argv] = pgCtlArgs(...args);
    return run(command, argv);
  };
  let destroyed = false;
  // A test or tool that fails half-way must not leave a postmaster (nor its directory) behind.
  const onExit = () => {
    try {
      const [command, argv] = pgCtlArgs('stop', '-m', 'immediate', '-w');
      execFileSync(command, argv, { stdio: 'ignore', timeout: 10_000 });
    } catch {
      // not running
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    if (asRoot()) {
      const [uid, gid] = await Promise.all([run('id', ['-u', POSTGRES_USER]), run('id', ['-g', POSTGRES_USER])]);
      await chown(dir, Number(uid.trim()), Number(gid.trim()));
    }
    const [command, argv] = asPostgres(join(bin, 'initdb'), ['-D', dataDir, '-U', POSTGRES_USER, '--auth=trust', '--no-sync', '-E', 'UTF8']);
    await run(command, argv);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const port = await freePort();
  // Durability is not under test (a fast shutdown flushes anyway); fsync off keeps seeding quick on shared disks.
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const start = async () => {
    await pgCtl('start', '-w', '-t', '60', '-l', logFile, '-o', serverOptions);
  };
  process.once('exit', onExit);
  try {
    await start();
  } catch (error) {
    process.off('exit', onExit);
    onExit();
    throw error;
  }

  return {
    serverUrl: `postgres://${POSTGRES_USER}@127.0.0.1:${port}/postgres`,
    port,
    start,
    async stop() {
      await pgCtl('stop', '-m', 'fast', '-w', '-t', '60');
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      process.off('exit', onExit);
      // Already stopped (mid-fault) is fine.
      await pgCtl('stop', '-m', 'immediate', '-w').catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
    log: () => readFile(logFile, 'utf8').catch(() => ''),
    async pause() {
      // The postmaster first, so that it forks nothing new meanwhile.
      for (const pid of serverProcesses(dataDir)) process.kill(pid, 'SIGSTOP');
    },
    async resume() {
      for (const pid of serverProcesses(dataDir)) process.kill(pid, 'SIGCONT');
    },
  };
}

/** The postmaster (first line of postmaster.pid) and its children, from /proc (Linux). */
function serverProcesses(dataDir: string): number[] {
  const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n', 1)[0]);
  const children = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        // "pid (comm) state ppid ...": comm may hold spaces, so read after its closing parenthesis.
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
      } catch {
        return false; // exited meanwhile
      }
    })
    .map(Number);
  return [postmaster, ...children];
}
