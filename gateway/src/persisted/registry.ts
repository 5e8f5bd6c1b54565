import type { Logger } from '@shop/observability';
import type { PersistedOperation, PersistedSnapshot, PersistedStore } from './types.ts';

const EMPTY: PersistedSnapshot = { clientsByName: new Map(), clientsByKeyHash: new Map(), operations: new Map() };

/**
 * The gateway's in-memory view of registered clients and their published operations, so
 * deciding a request needs no I/O. Reloaded whenever the store reports a change; if a reload
 * fails, the previous snapshot keeps serving.
 */
export class PersistedRegistry {
  private snapshot: PersistedSnapshot = EMPTY;
  private stopWatching: (() => void) | undefined;
  private reloading: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: PersistedStore,
    private readonly logger: Logger,
    /** Told of every snapshot loaded (e.g. to label metrics by the published operation names). */
    private readonly onLoad: (snapshot: PersistedSnapshot) => void = () => {},
  ) {}

  async start(): Promise<void> {
    this.snapshot = await this.store.load();
    this.onLoad(this.snapshot);
    this.stopWatching = this.store.watch(() => {
      this.reloading = this.reloading.then(() => this.reload());
    });
  }

  private async reload(): Promise<void> {
    try {
      this.snapshot = await this.store.load();
      this.onLoad(this.snapshot);
      this.logger.info(
        { clients: this.snapshot.clientsByName.size, operations: [...this.snapshot.operations.values()].reduce((n, m) => n + m.size, 0) },
        'persisted operations reloaded',
      );
    } catch (error) {
      this.logger.error({ err: error }, 'persisted operations reload failed; keeping the previous set');
    }
  }

  current(): PersistedSnapshot {
    return this.snapshot;
  }

  operation(clientName: string, id: string): PersistedOperation | undefined {
    return this.snapshot.operations.get(clientName)?.get(id);
  }

  async close(): Promise<void> {
    this.stopWatching?.();
    await this.reloading;
    await this.store.close();
  }
}
