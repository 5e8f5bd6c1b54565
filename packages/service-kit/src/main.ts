import { shutdownTracing, type Logger } from '@shop/observability';
import { ConfigError } from './env.ts';

interface Closable {
  close(): Promise<void>;
}

/**
 * Runs a service's entry point: a configuration error exits with code 78 (EX_CONFIG)
 * and a readable message; SIGTERM and SIGINT close the service gracefully, once.
 */
export async function runService(name: string, start: () => Promise<{ service: Closable; logger: Logger }>): Promise<void> {
  let running: { service: Closable; logger: Logger };
  try {
    running = await start();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${name}: ${error.message}\n`);
      process.exit(78);
    }
    process.stderr.write(`${name}: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  }
  const { service, logger } = running;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining and shutting down');
    // Spans still buffered are flushed after the last request ends, before the process exits.
    service
      .close()
      .then(() => shutdownTracing())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'error while shutting down');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
