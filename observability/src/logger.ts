import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * One JSON logger per service. The service name is on every line so that
 * logs of the whole stack can be read interleaved (npm start runs them all).
 */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
