/**
 * Every `npm run <tool>` answers a failure a person can fix (a bad flag, a missing file, a
 * service that is not running, a bad variable) with one line on stderr and a sysexits(3) code,
 * so scripts can tell them apart and a person sees what to do, not a stack trace. A stack is
 * printed only for what is a bug (exit 70, "internal error"), or for anything with DEBUG=1.
 */

/** sysexits(3), as `npm run pq` has always used them. */
export const EXIT = {
  ok: 0,
  /** The tool ran and its answer is "no" (a check failed, a manifest was refused). */
  failed: 1,
  usage: 64,
  /** An input file that exists but is not what it should be (not JSON, wrong shape). */
  dataErr: 65,
  noInput: 66,
  unavailable: 69,
  software: 70,
  config: 78,
} as const;

/** A failure with a message written for a person and the exit code that says which kind it is. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/**
 * A child process of the tool failed and already printed its one line: the tool exits with the
 * child's code and prints nothing more.
 */
export class ReportedFailure extends CliError {
  override readonly name = 'ReportedFailure';
  constructor(what: string, exitCode: number) {
    super(`${what} failed (exit ${exitCode})`, exitCode);
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage);
export const missingInput = (message: string) => new CliError(message, EXIT.noInput);
export const badData = (message: string) => new CliError(message, EXIT.dataErr);
export const unavailable = (message: string) => new CliError(message, EXIT.unavailable);

const CONNECTION_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
};
const FILE_CODES: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
};

type ErrnoLike = Error & { code?: unknown; address?: unknown; port?: unknown; path?: unknown; cause?: unknown; errors?: unknown };

/** The innermost error that carries a system code: `fetch failed` wraps it in `cause`, happy eyeballs in `errors`. */
function systemCause(error: unknown, depth = 0): ErrnoLike | undefined {
  if (!(error instanceof Error) || depth > 5) return undefined;
  const e = error as ErrnoLike;
  if (typeof e.code === 'string' && (e.code in CONNECTION_CODES || e.code in FILE_CODES)) {
    const inner = Array.isArray(e.errors) ? systemCause(e.errors[0], depth + 1) : undefined;
    return inner && inner.code === e.code ? inner : e;
  }
  return systemCause(e.cause, depth + 1) ?? (Array.isArray(e.errors) ? systemCause(e.errors[0], depth + 1) : undefined);
}

/** The endpoint a connection error names, as `host:port`. */
function endpoint(error: ErrnoLike): string | undefined {
  if (typeof error.address === 'string') return typeof error.port === 'number' ? `${error.address}:${error.port}` : error.address;
  const hostname = (error as { hostname?: unknown }).hostname;
  return typeof hostname === 'string' ? hostname : undefined;
}

export interface Failure {
  exitCode: number;
  /** One line for a person. */
  line: string;
  /** Not something a person can fix by changing the input: print the stack. */
  bug: boolean;
}

/** What a thrown error means to the person who ran the tool; `usage` (one line) follows a bad flag. */
export function describeFailure(error: unknown, usage?: string): Failure {
  if (error instanceof CliError) return { exitCode: error.exitCode, line: error.message, bug: false };
  if (!(error instanceof Error)) return { exitCode: EXIT.software, line: `internal error: ${String(error)}`, bug: true };
  const named = error as ErrnoLike & { problems?: unknown };

  // @shop/service-kit's loadConfig: every bad variable at once.
  if (error.name === 'ConfigError' && Array.isArray(named.problems)) {
    return { exitCode: EXIT.config, line: `invalid configuration: ${named.problems.join('; ')}`, bug: false };
  }
  // node:util parseArgs: an unknown flag, a flag without its value, an unexpected argument.
  if (typeof named.code === 'string' && named.code.startsWith('ERR_PARSE_ARGS_')) {
    const problem = error.message.replace(/\. To specify a positional.*$/s, '');
    return { exitCode: EXIT.usage, line: usage ? `${problem}; usage: ${usage}` : problem, bug: false };
  }
  const cause = systemCause(error);
  if (cause && typeof cause.code === 'string' && cause.code in FILE_CODES) {
    const path = typeof cause.path === 'string' ? cause.path : 'a file';
    return { exitCode: EXIT.noInput, line: `cannot read ${path}: ${FILE_CODES[cause.code]}`, bug: false };
  }
  if (cause && typeof cause.code === 'string' && cause.code in CONNECTION_CODES) {
    // A wrapper that says what it was connecting to says it best; a bare socket error or fetch's "fetch failed" does not.
    const own = error !== cause && error.message !== 'fetch failed' ? error.message : undefined;
    const where = endpoint(cause);
    return { exitCode: EXIT.unavailable, line: own ?? `cannot connect${where ? ` to ${where}` : ''}: ${CONNECTION_CODES[cause.code]}`, bug: false };
  }
  // ioredis gives up on a command once Redis stays unreachable; the gateway's Redis uses fail fast.
  if (error.name === 'MaxRetriesPerRequestError' || error.name === 'RedisUnavailableError') return { exitCode: EXIT.unavailable, line: `Redis is unavailable: ${error.message}`, bug: false };
  return { exitCode: EXIT.software, line: `internal error: ${error.message}`, bug: true };
}

const oneLine = (text: string) =>
  text
    .split('\n')
    .map((part) => part.trim())
    .filter(Boolean)
    .join('; ');

/** Prints a failure as `<tool>: <one line>` (plus the stack for a bug, or with DEBUG=1) and returns its exit code. */
export function reportFailure(tool: string, error: unknown, usage?: string): number {
  const failure = describeFailure(error, usage);
  if (error instanceof ReportedFailure && process.env.DEBUG !== '1') return failure.exitCode;
  process.stderr.write(`${tool}: ${oneLine(failure.line)}\n`);
  if ((failure.bug || process.env.DEBUG === '1') && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return failure.exitCode;
}

let installed = false;

/**
 * For tools written as a script (top-level await): any failure that escapes, even from code at
 * the top of the module, is reported by `reportFailure` and ends the process with its code.
 * Call it first thing in the entry module; imports run before it, so keep them side-effect free.
 */
export function exitOnFailure(tool: string, usage?: string): void {
  if (installed) return;
  installed = true;
  const fail = (error: unknown) => process.exit(reportFailure(tool, error, usage));
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
}

/**
 * Runs a tool's `main(argv)`: its return value is the exit code; whatever it throws is reported
 * as one line with the code `describeFailure` gives it.
 */
export async function runCli(
  tool: string,
  main: (argv: string[]) => Promise<number | void> | number | void,
  options: { usage?: string } = {},
): Promise<void> {
  exitOnFailure(tool, options.usage);
  try {
    process.exitCode = (await main(process.argv.slice(2))) ?? EXIT.ok;
  } catch (error) {
    // Exit now: a failed tool may still hold sockets (a Redis client retrying) that would keep it alive.
    process.exit(reportFailure(tool, error, options.usage));
  }
}

/** JSON a person passed in a flag or a file, refused with a line naming where it came from. */
export function parseJson(text: string, where: string, exitCode: number = EXIT.usage): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`${where} is not valid JSON: ${(error as Error).message}`, exitCode);
  }
}
