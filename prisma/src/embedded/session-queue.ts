// PGlite is one PostgreSQL session; pglite-socket lets many connections share it through a
// queue of protocol messages. Its own queue (0.2.17, QueryQueueManager) keeps a connection's
// messages together only while a transaction is open, so two connections' extended-protocol
// exchanges (Parse/Bind/Execute ... Sync) interleave and clobber the session's unnamed
// statement and portal ("26000 unnamed prepared statement does not exist", "34000 portal does
// not exist"); and one failed message leaves its `processing` flag set forever, so every later
// query hangs. Both are upstream electric-sql/pglite#1046. This queue replaces it: the session
// belongs to one connection from its first extended-protocol message to its Sync, and for as
// long as it holds a transaction open; a failure rejects that message only.
//
// The reach-in (assigning the server's `queryQueue`) is this module alone, against the pinned
// pglite-socket version; embedded.test.ts fails if an upgrade changes what it relies on.
import type { PGlite } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  resolve: (bytes: number) => void;
  reject: (error: unknown) => void;
  onData: (data: Uint8Array) => void;
}

/** Frontend message types of the extended query protocol that leave the exchange open until Sync. */
const EXTENDED = new Set(['P', 'B', 'D', 'E', 'C', 'H'].map((c) => c.charCodeAt(0)));
const SYNC = 'S'.charCodeAt(0);
/** A Sync message: type byte and length 4, no body. */
const SYNC_MESSAGE = new Uint8Array([SYNC, 0, 0, 0, 4]);

export class SessionQueue {
  private readonly queue: QueuedMessage[] = [];
  private processing = false;
  /** The connection the session belongs to until it syncs and has no transaction open; null: any. */
  private owner: number | null = null;
  /** Whether the owner is inside an extended-protocol exchange (sent a message other than Sync since its last Sync). */
  private ownerMidExchange = false;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, resolve, reject, onData });
      void this.processQueue();
    });
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  clearQueueForHandler(handlerId: number): void {
    for (let i = this.queue.length - 1; i >= 0; i -= 1) {
      if (this.queue[i]!.handlerId === handlerId) this.queue.splice(i, 1)[0]!.reject(new Error('Handler disconnected'));
    }
  }

  /** A connection went away: give the session back clean (no open transaction, no half exchange). */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    await this.db.runExclusive(async () => {
      // Ends an exchange the connection left half done, and its error state if it had one.
      if (this.ownerMidExchange) await this.db.execProtocolRaw(SYNC_MESSAGE).catch(() => undefined);
      if (this.db.isInTransaction()) await this.db.exec('ROLLBACK').catch(() => undefined);
    });
    this.owner = null;
    this.ownerMidExchange = false;
    void this.processQueue();
  }

  private next(): QueuedMessage | undefined {
    if (this.owner === null) return this.queue.shift();
    const index = this.queue.findIndex((item) => item.handlerId === this.owner);
    // The owner's next message has not arrived yet: everyone else waits for it.
    return index === -1 ? undefined : this.queue.splice(index, 1)[0];
  }

  private async processQueue(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      for (let item = this.next(); item; item = this.next()) {
        const type = item.message[0];
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(item!.message, {
              onRawData: (data: Uint8Array) => {
                bytes += data.length;
                item!.onData(data);
              },
            }),
          );
          item.resolve(bytes);
        } catch (error) {
          item.reject(error);
        }
        const midExchange = type !== undefined && EXTENDED.has(type) ? true : type === SYNC ? false : this.owner === item.handlerId && this.ownerMidExchange;
        const holds = midExchange || this.db.isInTransaction();
        this.owner = holds ? item.handlerId : null;
        this.ownerMidExchange = holds && midExchange;
      }
    } finally {
      this.processing = false;
    }
  }
}

/** Makes the server's connections share its PGlite session safely (see the top of this file). */
export function installSessionQueue(server: PGLiteSocketServer, db: PGlite): void {
  const target = server as unknown as { queryQueue?: unknown };
  if (!target.queryQueue || typeof (target.queryQueue as { enqueue?: unknown }).enqueue !== 'function') {
    throw new Error('@electric-sql/pglite-socket changed: PGLiteSocketServer has no queryQueue to replace (see prisma/src/embedded/session-queue.ts)');
  }
  target.queryQueue = new SessionQueue(db);
}
