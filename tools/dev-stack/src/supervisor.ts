import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '@shop/observability';

export interface ServiceSpec {
  name: string;
  /** The service's bundled entry (`dist/main.js`), run with plain `node`. */
  entry: string;
  env: Record<string, string>;
  /** Node flags before the entry (e.g. the gateway's heap cap). */
  nodeFlags?: string[];
  /** Polled until it answers 200 before the service counts as started. */
  healthUrl: string;
  /**
   * Restarted with backoff when it exits (the default, as `npm start` wants); false leaves it down
   * until started again, for a caller that stops and starts services itself (`npm run chaos`).
   */
  restartOnExit?: boolean;
  /** Where the service's stdout and stderr go: the launcher's (default) or an open file descriptor. */
  output?: 'inherit' | number;
}

/**
 * Runs each service as its own process, as in production: one crashing does not take the
 * others down, and a crashed one is restarted with backoff.
 */
export class Supervisor {
  private readonly children = new Map<string, ChildProcess>();
  private stopping = false;

  constructor(private readonly logger: Logger) {}

  async start(spec: ServiceSpec, timeoutMs = 60_000): Promise<void> {
    this.launch(spec, 0);
    await waitForHealthy(spec.healthUrl, timeoutMs, () => !this.children.has(spec.name));
  }

  private launch(spec: ServiceSpec, restarts: number): void {
    const output = spec.output ?? 'inherit';
    const child = spawn(process.execPath, [...(spec.nodeFlags ?? []), spec.entry], {
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', output, output],
    });
    this.children.set(spec.name, child);
    const startedAt = Date.now();
    child.on('exit', (code, signal) => {
      // A service started again meanwhile is another process under the same name.
      if (this.children.get(spec.name) === child) this.children.delete(spec.name);
      if (this.stopping || spec.restartOnExit === false) return;
      // A service that ran a while before crashing gets a fresh backoff.
      const attempt = Date.now() - startedAt > 60_000 ? 0 : restarts + 1;
      const delay = Math.min(30_000, 500 * 2 ** attempt);
      this.logger.error({ service: spec.name, code, signal, restartInMs: delay }, 'service exited; restarting');
      setTimeout(() => {
        if (!this.stopping) this.launch(spec, attempt);
      }, delay).unref();
    });
  }

  /** The running process of a service, if any. */
  pid(name: string): number | undefined {
    return this.children.get(name)?.pid;
  }

  /** Sends `signal` to a running service; false when it is not running. */
  signal(name: string, signal: NodeJS.Signals): boolean {
    const child = this.children.get(name);
    return child ? child.kill(signal) : false;
  }

  /** Resolves when the service's current process has exited (at once when none runs). */
  exited(name: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = this.children.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      return Promise.resolve({ code: child?.exitCode ?? null, signal: child?.signalCode ?? null });
    }
    return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /**
   * SIGTERM to every service (they drain), then wait for them to exit. Each exit is logged
   * (`service stopped`, with its code and how long it took), and a service still running after
   * `timeoutMs` is SIGKILLed with a line of its own (`service did not stop in time: SIGKILL`), so a
   * shutdown that did not finish by itself shows in the logs (`npm run measure:stop` counts them).
   */
  async stop(timeoutMs = 15_000): Promise<void> {
    this.stopping = true;
    const startedAt = performance.now();
    const exits = [...this.children.entries()].map(
      ([name, child]) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const kill = setTimeout(() => {
            this.logger.error({ service: name, pid: child.pid, timeoutMs }, 'service did not stop in time: SIGKILL');
            child.kill('SIGKILL');
          }, timeoutMs);
          kill.unref();
          child.once('exit', (code, signal) => {
            clearTimeout(kill);
            this.logger.info({ service: name, code, signal, stopMs: Math.round(performance.now() - startedAt) }, 'service stopped');
            resolve();
          });
          child.kill('SIGTERM');
          // A stopped (SIGSTOP) process would hold the signal until the SIGKILL below.
          child.kill('SIGCONT');
        }),
    );
    await Promise.all(exits);
  }
}

async function waitForHealthy(url: string, timeoutMs: number, gaveUp: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (gaveUp()) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not become healthy within ${timeoutMs} ms`);
}
