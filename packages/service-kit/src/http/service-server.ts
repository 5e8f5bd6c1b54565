import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@shop/observability';
import { HttpError, sendHttpError, sendJson } from './errors.ts';
import type { RequestHandler } from './graphql-handler.ts';

export interface ServiceServerOptions {
  host: string;
  port: number;
  logger: Logger;
  /** Path -> handler. `/health` and `/ready` are added. */
  routes: Record<string, RequestHandler>;
  /** Readiness beyond "the process is up", e.g. "a supergraph is loaded". */
  isReady?: () => boolean;
  /** Why the service cannot serve now (e.g. its database is down), or null: /ready answers 503 with it as `reason`. */
  notReadyReason?: () => string | null;
  /** How long SIGTERM waits for in-flight requests before closing their sockets. */
  drainTimeoutMs?: number;
}

export interface ServiceServer {
  readonly url: string;
  readonly port: number;
  readonly httpServer: Server;
  /** Requests answered on the routes (probes excluded): "internal calls" when this is a subgraph. */
  readonly requests: { count: number };
  /** Stops accepting connections and waits for in-flight requests (up to the drain timeout). */
  close(): Promise<void>;
}

/**
 * The HTTP shell every service shares: routing by path, liveness and readiness probes,
 * and a graceful close that lets in-flight requests finish.
 */
export async function startServiceServer(options: ServiceServerOptions): Promise<ServiceServer> {
  const { logger, routes } = options;
  let draining = false;
  const requests = { count: 0 };

  const httpServer = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    if (path === '/health') return sendJson(res, 200, { status: 'ok' });
    if (path === '/ready') {
      const reason = draining ? null : (options.notReadyReason?.() ?? null);
      const ready = !draining && reason === null && (options.isReady?.() ?? true);
      return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : draining ? 'draining' : 'not ready', ...(reason ? { reason } : {}) });
    }
    const handler = routes[path];
    if (!handler) return sendHttpError(res, new HttpError(404, 'NOT_FOUND', `No route for ${path}.`));
    requests.count += 1;
    if (draining) res.setHeader('connection', 'close');
    // A keep-alive socket whose request was in flight when draining began becomes idle only
    // now; close it so the drain ends when the work does, not at the drain timeout.
    res.once('finish', () => {
      if (draining) setImmediate(() => httpServer.closeIdleConnections());
    });
    handler(req, res).catch((error: unknown) => {
      logger.error({ err: error, path }, 'unhandled request error');
      if (!res.headersSent) {
        sendHttpError(res, new HttpError(500, 'INTERNAL_SERVER_ERROR', 'Internal server error.'));
      } else {
        res.destroy();
      }
    });
  });
  // Keep-alive must outlive the gateway's client-side idle timeout, or the gateway
  // reuses sockets the server just closed.
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port, options.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const address = httpServer.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${hostForUrl}:${address.port}`,
    port: address.port,
    httpServer,
    requests,
    async close() {
      draining = true;
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      httpServer.closeIdleConnections();
      const timeout = setTimeout(() => httpServer.closeAllConnections(), options.drainTimeoutMs ?? 10_000);
      timeout.unref();
      await closed;
      clearTimeout(timeout);
    },
  };
}
