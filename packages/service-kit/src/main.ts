import { setTimeout as sleep } from 'node:timers/promises';
import { shutdownTracing, type Logger } from '@shop/observability';
import { ConfigError } from './env.ts';

export interface RunnableService {
  /**
   * The first step of a shutdown: readiness answers 503 while everything is still served, so that
   * load balancers stop sending requests before the listener closes.
   */
  startDraining?(): void;
  /** Closes the listener, lets in-flight requests finish, then closes everything else. */
  close(): Promise<unknown>;
}

export interface StartedService {
  service: RunnableService;
  logger: Logger;
  /**
   * How long to keep serving after readiness turned 503 before the listener closes: the time the
   * load balancers in front need to notice (SHUTDOWN_DELAY_MS). Default 0.
   */
  shutdownDelayMs?: number;
  /**
   * The longest the close may take after the delay (drain timeout included); past it the process
   * exits 1 rather than hang until an orchestrator kills it. Default 30 s.
   */
  closeTimeoutMs?: number;
}

/**
 * Runs a service's entry point: a configuration error exits with code 78 (EX_CONFIG)
 * and a readable message; SIGTERM and SIGINT close the service gracefully, once: readiness
 * turns 503, the service keeps serving for the shutdown delay, then drains and exits 0.
 */
export async function runService(name: string, start: () => Promise<StartedService>): Promise<void> {
  let running: StartedService;
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
  const shutdownDelayMs = running.shutdownDelayMs ?? 0;
  const closeTimeoutMs = running.closeTimeoutMs ?? 30_000;
  let stopping = false;
  const stop = async (signal: string) => {
    // Apollo Server's own signal handlers are off (stopOnTerminationSignals: false): this is the only one.
    if (stopping) return;
    stopping = true;
    const startedAt = performance.now();
    const elapsedMs = () => Math.round(performance.now() - startedAt);
    logger.info({ signal, shutdownDelayMs }, 'draining and shutting down: readiness answers 503, still serving');
    service.startDraining?.();
    if (shutdownDelayMs > 0) await sleep(shutdownDelayMs);
    // A close that hangs (a connection that never settles) must not keep the process up until an
    // orchestrator's SIGKILL: it is logged, and the process exits 1.
    const backstop = setTimeout(() => {
      logger.error({ closeTimeoutMs }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, closeTimeoutMs);
    backstop.unref();
    try {
      await service.close();
      // Spans still buffered are flushed after the last request ends, before the process exits.
      await shutdownTracing();
    } catch (error) {
      logger.error({ err: error }, 'error while shutting down');
      process.exit(1);
    }
    logger.info({ signal, shutdownMs: elapsedMs() }, 'shut down; exiting');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
