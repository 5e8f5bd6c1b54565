import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';

export interface HangingSubgraph {
  url: string;
  /** Connections accepted so far (an HTTP client may open some ahead of its requests). */
  connections(): number;
  /** Requests received so far: the subgraph fetches that reached it (each on its own connection, never answered). */
  requests(): number;
  /** Drops every held connection: the fetches waiting on them fail. */
  release(): void;
  close(): void;
}

/**
 * A "subgraph" that accepts connections and never answers, so a gateway execution that fetches
 * from it stays in flight for as long as a test wants (admission control, queueing).
 */
export async function startHangingSubgraph(): Promise<HangingSubgraph> {
  const held = new Set<Socket>();
  let requests = 0;
  const server = createServer((socket) => {
    held.add(socket);
    socket.on('error', () => {});
    // A request is never answered, so a connection carries at most one.
    socket.once('data', () => (requests += 1));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const release = () => {
    for (const socket of held) socket.destroy();
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    connections: () => held.size,
    requests: () => requests,
    release,
    close: () => {
      release();
      server.close();
    },
  };
}
