export interface UntilOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** What was awaited, for the error; a function is read when the wait fails (e.g. a child's output so far). */
  what?: string | (() => string);
}

/**
 * Polls `condition` until it holds, for what happens elsewhere (another process, a file watcher,
 * a server's counters). Throws after `timeoutMs`; an error thrown by `condition` ends the wait at once.
 */
export async function until(condition: () => boolean | Promise<boolean>, options: UntilOptions = {}): Promise<void> {
  const { timeoutMs = 10_000, intervalMs = 25 } = options;
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      const what = typeof options.what === 'function' ? options.what() : (options.what ?? 'condition');
      throw new Error(`not met within ${timeoutMs} ms: ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
