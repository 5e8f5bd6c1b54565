import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';

export interface HangingSubgraph {
  url: string;
  /** Connections accepted so far (each one an in-flight subgraph fetch that gets no answer). */
  connections(): number;
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
  const server = createServer((socket) => {
    held.add(socket);
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const release = () => {
    for (const socket of held) socket.destroy();
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    connections: () => held.size,
    release,
    close: () => {
      release();
      server.close();
    },
  };
}
