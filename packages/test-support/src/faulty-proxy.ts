import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the proxy does with the next request: pass it on, answer a status itself, cut the
 * connection, or hold it (a slow subgraph) until `releaseHeld()` passes it on.
 */
export type ProxyFault = { kind: 'pass' } | { kind: 'status'; status: number } | { kind: 'reset' } | { kind: 'hold' };

export interface FaultyProxy {
  url: string;
  /** Requests that reached the proxy so far (each one a subgraph call the gateway made). */
  requests(): number;
  /** The faults of the next requests, in order; once they are used up, `then` applies to every request. */
  plan(next: ProxyFault[], then?: ProxyFault): void;
  /** Requests held (`hold`) and not yet released. */
  held(): number;
  /** Passes every held request on to the subgraph. */
  releaseHeld(): void;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of a real subgraph that injects faults a load balancer or a struggling
 * subgraph produces: a 502/503 answer, or a connection reset with no answer. Requests it passes
 * go to the subgraph unchanged (the gateway's signature binds the path and body, not the host).
 */
export async function startFaultyProxy(targetUrl: string): Promise<FaultyProxy> {
  const target = new URL(targetUrl);
  let queue: ProxyFault[] = [];
  let fallback: ProxyFault = { kind: 'pass' };
  let count = 0;
  let held: Array<() => void> = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    count += 1;
    const fault = queue.shift() ?? fallback;
    if (fault.kind === 'hold') {
      req.pause();
      held.push(() => pass(req, res));
      return;
    }
    pass(req, res, fault);
  });
  const pass = (req: IncomingMessage, res: ServerResponse, fault: ProxyFault = { kind: 'pass' }) => {
    if (fault.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault.kind === 'status') {
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'text/plain' }).end('injected fault');
      return;
    }
    const upstream = request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${target.pathname}`,
    requests: () => count,
    plan(next, then = { kind: 'pass' }) {
      queue = [...next];
      fallback = then;
    },
    held: () => held.length,
    releaseHeld() {
      const release = held;
      held = [];
      for (const passOn of release) passOn();
    },
    close: async () => {
      held = [];
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
