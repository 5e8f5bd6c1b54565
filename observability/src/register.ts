/**
 * Imported first by every service's entry point (`import '@shop/observability/register'`), so
 * tracing is set up before any other module of the service is loaded. The service is named after
 * its folder (gateway, reviews, ...) unless OTEL_SERVICE_NAME says otherwise.
 */
import { basename, dirname } from 'node:path';
import { packageVersion, startTracing } from './tracing.ts';

const entry = process.argv[1] ?? '';
const service = basename(dirname(dirname(entry))) || 'shop';
try {
  startTracing({ service, version: packageVersion(entry) });
} catch (error) {
  // Like every other configuration error: a readable message and EX_CONFIG, not a stack trace.
  process.stderr.write(`${service}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(78);
}
