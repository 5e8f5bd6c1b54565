/**
 * The node flags the gateway runs with, applied by its entry point from the environment, so that
 * `node gateway/dist/main.js`, the container image and `npm start` run the same way.
 *
 * Why flags at all: V8 grows its heap lazily under a high allocation rate (the gateway allocates a
 * result tree per request) up to a limit of several GB, so a busy gateway's RSS is mostly garbage
 * not yet collected. A cap makes V8 collect sooner at about the same throughput (measured in
 * tools/bench/RESULTS.md: 300-350 MB RSS uncapped against 163-186 MB capped on the bench load). A cap
 * alone is a hard limit that unbounded concurrency can exhaust; the admission control of
 * gateway/src/limits/admission.ts bounds the executions in flight and holds new ones back while the heap is near
 * its limit, which makes the cap safe.
 *
 * Why a re-exec: V8 sizes its heap when the isolate is created; `v8.setFlagsFromString` afterwards
 * does not move the limit (checked on Node 20: heap_size_limit stays at its default). So a process
 * started without the flags starts itself again with them: on Node >= 22.15 with `process.execve`,
 * which replaces the process (same pid, nothing left behind, as if the flags had been typed); on
 * older Node as a child it supervises (signals forwarded, its exit code and signal passed on). This
 * module imports only Node's built-ins: on Node 20 the supervising process loads nothing else.
 *
 * Flags already given (on the command line or in NODE_OPTIONS) win: an operator's explicit
 * `--max-old-space-size` is never overridden, and the child of a re-exec, or a cluster worker
 * (forked with the primary's execArgv), finds its flags in place and serves.
 */
import { spawn } from 'node:child_process';

/**
 * The semi-space: V8's 16 MiB young generation is collected (scavenged) so often under the gateway's
 * load that every in-flight execution's result tree is copied again and again, and promoted. 32 MiB
 * cut that: 4-12% more answers/s (median 278 -> 308, 247 -> 278, 283 -> 294 req/s in three paired
 * runs, `tools/bench/RESULTS.md`) for about 40 MB more peak RSS (190 -> 228 MB).
 */
export const NODE_FLAG_DEFAULTS = { GATEWAY_HEAP_MB: 192, GATEWAY_SEMI_SPACE_MB: 32 } as const;

/** A bad GATEWAY_* flag variable; `problems` are written like the configuration loader's. */
export class NodeFlagsConfigError extends Error {
  override readonly name = 'NodeFlagsConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Whole MiB between `min` and `max`, 0 meaning V8's default; unset or empty: `fallback`. */
function mebibytes(environment: NodeJS.ProcessEnv, key: string, fallback: number, min: number, max: number, problems: string[], tooSmall: string): number {
  const raw = environment[key];
  if (raw === undefined || raw === '') return fallback;
  const got = ` (got ${JSON.stringify(raw)})`;
  if (!/^\d+$/.test(raw.trim())) {
    problems.push(`${key}: expected a whole number of MiB (0: V8 default)${got}`);
    return fallback;
  }
  const value = Number(raw.trim());
  if (value !== 0 && value < min) problems.push(`${key}: ${tooSmall}${got}`);
  else if (value > max) problems.push(`${key}: expected at most ${max}${got}`);
  return value;
}

/**
 * GATEWAY_HEAP_MB (default 192; 0: V8's default) and GATEWAY_SEMI_SPACE_MB (V8's young generation
 * semi-space; default 32; 0: V8's own, 16 MiB on 64-bit) as node flags. Throws NodeFlagsConfigError.
 */
export function gatewayNodeFlags(environment: NodeJS.ProcessEnv = process.env): string[] {
  const problems: string[] = [];
  const heap = mebibytes(
    environment,
    'GATEWAY_HEAP_MB',
    NODE_FLAG_DEFAULTS.GATEWAY_HEAP_MB,
    64,
    65_536,
    problems,
    'expected 0 (V8 default) or at least 64 MiB: below that the gateway cannot hold its supergraph and plans',
  );
  const semiSpace = mebibytes(environment, 'GATEWAY_SEMI_SPACE_MB', NODE_FLAG_DEFAULTS.GATEWAY_SEMI_SPACE_MB, 1, 1024, problems, 'expected 0 or more');
  if (problems.length > 0) throw new NodeFlagsConfigError(problems);
  return [...(heap > 0 ? [`--max-old-space-size=${heap}`] : []), ...(semiSpace > 0 ? [`--max-semi-space-size=${semiSpace}`] : [])];
}

/** The flags of `wanted` whose option is given neither in `execArgv` nor in NODE_OPTIONS. */
export function missingFlags(wanted: readonly string[], execArgv: readonly string[], nodeOptions = ''): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].map((arg) => optionName(arg)).filter(Boolean));
  return wanted.filter((flag) => !given.has(optionName(flag)));
}

/** `--max-old-space-size=192` and `--max_old_space_size=192` both name `--max-old-space-size`. */
function optionName(arg: string): string {
  if (!arg.startsWith('--')) return '';
  return arg.split('=')[0]!.replace(/_/g, '-');
}

/** `process.execve` where Node has it (>= 22.15, 23.11): typed here so the code compiles on Node 20's types. */
type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;

/** Signals a supervising parent passes on to its child (SIGUSR1 would start the parent's own inspector). */
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR2'];

/**
 * True when this process should go on and serve: its flags are in place. Otherwise it starts
 * itself again with them and returns false (Node 20: it only supervises its child from then on);
 * with `process.execve` it never returns. A bad variable exits 78 with the configuration message,
 * like every other configuration error of the service.
 */
export function runWithNodeFlags(service: string, flagsOf: (environment: NodeJS.ProcessEnv) => string[] = gatewayNodeFlags): boolean {
  let flags: string[];
  try {
    flags = flagsOf(process.env);
  } catch (error) {
    if (!(error instanceof NodeFlagsConfigError)) throw error;
    process.stderr.write(`${service}: ${error.message}\n`);
    process.exit(78);
  }
  const missing = missingFlags(flags, process.execArgv, process.env.NODE_OPTIONS);
  if (missing.length === 0) {
    stopWhenOrphaned(service);
    return true;
  }
  const args = [...process.execArgv, ...missing, ...process.argv.slice(1)];
  const execve = (process as unknown as { execve?: Execve }).execve;
  if (typeof execve === 'function') {
    try {
      // argv[0] included: the new image sees the same argv a command line would give it.
      execve.call(process, process.execPath, [process.execPath, ...args], process.env);
    } catch (error) {
      // execve(2) failed and this process is unchanged: a supervised child still gets the flags.
      process.stderr.write(`${service}: process.execve failed (${(error as Error).message}); running the service as a child process\n`);
    }
  }
  superviseChild(args);
  return false;
}

/** Set on a supervised child: its supervisor's pid. */
const SUPERVISOR_PID = 'SHOP_NODE_FLAGS_SUPERVISOR_PID';

/**
 * A supervised child whose supervisor is gone (SIGKILLed: nothing passes signals on any more, and
 * nobody would stop it) stops itself the way SIGTERM stops it, draining first. Linux has no
 * parent-death signal Node can ask for, so the parent pid is looked at once a second.
 */
function stopWhenOrphaned(service: string): void {
  const supervisor = Number(process.env[SUPERVISOR_PID]);
  // Cluster workers of this process must not inherit it: their parent is this process.
  delete process.env[SUPERVISOR_PID];
  if (!supervisor || process.ppid !== supervisor) return;
  const watch = setInterval(() => {
    if (process.ppid === supervisor) return;
    clearInterval(watch);
    process.stderr.write(`${service}: its supervising process ${supervisor} is gone; stopping\n`);
    process.kill(process.pid, 'SIGTERM');
  }, 1000);
  watch.unref();
}

function superviseChild(args: string[]): void {
  const child = spawn(process.execPath, args, { stdio: 'inherit', env: { ...process.env, [SUPERVISOR_PID]: String(process.pid) } });
  const forward = (signal: NodeJS.Signals) => () => {
    child.kill(signal);
  };
  const handlers = FORWARDED_SIGNALS.map((signal) => [signal, forward(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  child.once('error', (error) => {
    process.stderr.write(`could not start ${process.execPath} with its node flags: ${error.message}\n`);
    process.exit(1);
  });
  child.once('exit', (code, signal) => {
    for (const [name, handler] of handlers) process.off(name, handler);
    // Ended by a signal: end the same way, so whoever started us sees what the child saw.
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
