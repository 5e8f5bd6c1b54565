/**
 * Everything the chaos run starts (processes, a PostgreSQL cluster, temporary directories) is
 * registered here as it starts, and undone in reverse order when the run ends: normally, on an
 * error, or on Ctrl-C / SIGTERM. A run that leaves a redis-server or a postmaster behind would
 * hold ports and disk of the next one.
 */
type Undo = () => Promise<void> | void;

const undos: Array<{ what: string; undo: Undo }> = [];
let running: Promise<void> | undefined;

/** Registers `undo`; returns a function that runs it now (once) and forgets it. */
export function onCleanup(what: string, undo: Undo): () => Promise<void> {
  const entry = { what, undo };
  undos.push(entry);
  return async () => {
    const index = undos.indexOf(entry);
    if (index === -1) return;
    undos.splice(index, 1);
    await undo();
  };
}

/** Undoes everything registered, newest first; one failing undo does not stop the others. */
export function cleanupAll(): Promise<void> {
  running ??= (async () => {
    while (undos.length > 0) {
      const { what, undo } = undos.pop()!;
      try {
        await undo();
      } catch (error) {
        console.error(`chaos: cleaning up ${what} failed: ${(error as Error).message}`);
      }
    }
  })();
  return running;
}

/** Ctrl-C and SIGTERM clean up before exiting (exit code 130 / 143), and so does an error nothing caught (exit code 2). */
export function cleanupOnSignals(): void {
  for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
    process.once(event, (error: unknown) => {
      console.error(`chaos: ${event}: ${(error as Error)?.stack ?? String(error)}`);
      void cleanupAll().finally(() => process.exit(2));
    });
  }
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      console.error(`\nchaos: ${signal}, cleaning up`);
      // A second Ctrl-C while cleaning up exits at once.
      process.once(signal, () => process.exit(code));
      void cleanupAll().finally(() => process.exit(code));
    });
  }
}
