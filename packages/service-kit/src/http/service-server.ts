import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '@shop/observability';
import { HttpError, sendHttpError, sendJson } from './errors.ts';
import type { RequestHandler } from './graphql-handler.ts';

export interface ServiceServerOptions {
  host: string;
  port: number;
  logger: Logger;
  /** Path -> handler; a path ending in `/*` serves everything under it (static files). `/health` and `/ready` are added. */
  routes: Record<string, RequestHandler>;
  /** Readiness beyond "the process is up", e.g. "a supergraph is loaded". */
  isReady?: () => boolean;
  /** Why the service cannot serve now (e.g. its database is down), or null: /ready answers 503 with it as `reason`. */
  notReadyReason?: () => string | null;
  /** How long SIGTERM waits for in-flight requests before closing their sockets. */
  drainTimeoutMs?: number;
  /** Which listener this is in the drain's log lines (a service may have several: `http`, `metrics`). */
  name?: string;
}

/** What a close found and did: requests in flight when the listener closed, and how many of them the drain timeout cut off. */
export interface DrainResult {
  inFlight: number;
  cut: number;
}

export interface ServiceServer {
  readonly url: string;
  readonly port: number;
  readonly httpServer: Server;
  /** Requests answered on the routes (probes excluded): "internal calls" when this is a subgraph. */
  /** Requests on the routes so far, and the bytes of their bodies (as declared by content-length). */
  readonly requests: { count: number; bodyBytes: number };
  /**
   * The first step of a shutdown, while everything is still served: readiness answers 503
   * (`draining`) so load balancers stop sending here, every answer carries `connection: close`
   * and idle keep-alive sockets are closed, so clients move to fresh connections while the
   * listener still accepts them and none is left to reuse once it closes.
   */
  startDraining(): void;
  /**
   * Drains (if not yet), stops accepting connections, closes idle keep-alive sockets and waits for
   * in-flight requests (up to the drain timeout, then their sockets are closed).
   */
  close(): Promise<DrainResult>;
}

/**
 * The HTTP shell every service shares: routing by path, liveness and readiness probes,
 * and a graceful close that lets in-flight requests finish.
 */
export async function startServiceServer(options: ServiceServerOptions): Promise<ServiceServer> {
  const { logger, routes } = options;
  const listener = options.name ?? 'http';
  let draining = false;
  const requests = { count: 0, bodyBytes: 0 };
  /** Requests on the routes whose answer is not finished yet (probes excluded: they answer at once). */
  let inFlight = 0;
  /**
   * Keep-alive sockets that have answered a request and wait for the next. Only these are closed
   * while draining: a client that sends on one as it closes sees a reused connection fail and may
   * retry (as browsers and HTTP clients do); a fresh connection whose first request is still on
   * its way would fail for good. (Node's closeIdleConnections closes both.)
   */
  const idleKeepAlive = new Set<Socket>();
  const closeIdleKeepAlive = () => {
    for (const socket of idleKeepAlive) socket.destroy();
    idleKeepAlive.clear();
  };

  const httpServer = createServer((req: IncomingMessage, res: ServerResponse) => {
    const { socket } = req;
    idleKeepAlive.delete(socket);
    // While draining, every answer (probes too) moves its client to a fresh connection: decided
    // when its head is written, so an answer to a request that came in before draining began says
    // so too, and its client does not send the next request on a socket about to close.
    const writeHead = res.writeHead;
    res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
      if (draining) this.setHeader('connection', 'close');
      return writeHead.apply(this, args);
    } as ServerResponse['writeHead'];
    res.once('finish', () => {
      if (socket.destroyed) return;
      // An answer whose head went out before draining began did not say `connection: close`: its
      // socket is closed now that it is idle, so the drain ends when the work does, not at the drain timeout.
      if (draining) socket.end();
      else idleKeepAlive.add(socket);
    });
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    if (path === '/health') return sendJson(res, 200, { status: 'ok' });
    if (path === '/ready') {
      const reason = draining ? null : (options.notReadyReason?.() ?? null);
      const ready = !draining && reason === null && (options.isReady?.() ?? true);
      return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : draining ? 'draining' : 'not ready', ...(reason ? { reason } : {}) });
    }
    const handler = routeFor(routes, path);
    if (!handler) return sendHttpError(res, new HttpError(404, 'NOT_FOUND', `No route for ${path}.`));
    requests.count += 1;
    requests.bodyBytes += Number(req.headers['content-length'] ?? 0) || 0;
    inFlight += 1;
    // 'close' also follows an answer cut off (client gone, socket destroyed): the request is over either way.
    res.once('close', () => (inFlight -= 1));
    handler(req, res).catch((error: unknown) => {
      logger.error({ err: error, path }, 'unhandled request error');
      if (!res.headersSent) {
        sendHttpError(res, new HttpError(500, 'INTERNAL_SERVER_ERROR', 'Internal server error.'));
      } else {
        res.destroy();
      }
    });
  });
  httpServer.on('connection', (socket: Socket) => socket.once('close', () => idleKeepAlive.delete(socket)));
  const startDraining = () => {
    if (draining) return;
    draining = true;
    closeIdleKeepAlive();
  };

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
    startDraining,
    async close() {
      startDraining();
      // Node's close also closes idle connections, fresh ones included: by now load balancers have
      // stopped sending here (SHUTDOWN_DELAY_MS), and a new connection would be refused a moment later anyway.
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      closeIdleKeepAlive();
      const result: DrainResult = { inFlight, cut: 0 };
      logger.info({ listener, inFlight }, 'listener closed; waiting for the requests in flight');
      const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
      const timeout = setTimeout(() => {
        result.cut = inFlight;
        logger.warn({ listener, cut: inFlight, drainTimeoutMs }, 'drain timeout: closing the connections of the requests still in flight');
        httpServer.closeAllConnections();
      }, drainTimeoutMs);
      timeout.unref();
      await closed;
      clearTimeout(timeout);
      logger.info({ listener, finished: result.inFlight - result.cut, cut: result.cut }, 'drained');
      return result;
    },
  };
}

/** The handler of `path`: its own route, or the nearest `<prefix>/*` above it. */
function routeFor(routes: Record<string, RequestHandler>, path: string): RequestHandler | undefined {
  if (routes[path]) return routes[path];
  for (let end = path.lastIndexOf('/'); end >= 0; end = path.lastIndexOf('/', end - 1)) {
    const handler = routes[`${path.slice(0, end)}/*`];
    if (handler) return handler;
    if (end === 0) break;
  }
  return undefined;
}
