import { createHash } from 'node:crypto';
import type { ApolloServerPlugin } from '@apollo/server';
import { stripIgnoredCharacters } from 'graphql';
import type { Logger } from '@shop/observability';
import type { GatewayContext } from '../context.ts';
import type { OperationLog, OperationLogLimits, RecordedUse } from './operation-log.ts';

export interface OperationRecorderOptions extends OperationLogLimits {
  log: OperationLog;
  logger: Logger;
  /** How often what was aggregated in memory is written to the log. */
  flushIntervalMs: number;
  /** Distinct (document, client) pairs kept in memory between flushes; more are dropped and counted. */
  maxPending: number;
  onFlushFailed?: () => void;
  onDropped?: () => void;
}

interface Pending {
  source: string;
  operationName: string | null;
  client: string;
  count: number;
  lastSeen: number;
}

/** Client names are the caller's own header for unregistered callers: bounded before they become keys. */
const MAX_CLIENT_NAME = 100;

/**
 * Records which operation documents the gateway executes, and for which client, so that
 * `npm run schema:check` can name the clients and operations a schema change breaks. A request
 * costs one map update: counts are aggregated in memory and written every `flushIntervalMs` in
 * one batch. A flush that fails (Redis down) keeps its counts for the next one, within
 * `maxPending`, and is counted; no request ever waits for it.
 */
export class OperationRecorder {
  private pending = new Map<string, Pending>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly options: OperationRecorderOptions) {
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs);
    this.timer.unref();
  }

  /** One execution of `source` (Apollo's `queryHash` is its sha256, so the key costs nothing to compute). */
  record(queryHash: string, source: string, operationName: string | null, clientName: string): void {
    const client = clientName.slice(0, MAX_CLIENT_NAME);
    const key = `${queryHash}\n${operationName ?? ''}\n${client}`;
    const entry = this.pending.get(key);
    if (entry) {
      entry.count += 1;
      entry.lastSeen = Date.now();
      return;
    }
    if (this.pending.size >= this.options.maxPending) {
      this.options.onDropped?.();
      return;
    }
    this.pending.set(key, { source, operationName, client, count: 1, lastSeen: Date.now() });
  }

  /** Writes what was aggregated since the last flush; one flush at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    // Normalized once per distinct document and flush, not per request.
    const uses: RecordedUse[] = [];
    for (const entry of batch.values()) {
      const document = normalize(entry.source);
      uses.push({
        documentHash: createHash('sha256').update(document).digest('hex'),
        document,
        operationName: entry.operationName,
        client: entry.client,
        count: entry.count,
        lastSeen: entry.lastSeen,
      });
    }
    try {
      await this.options.log.add(uses, this.options);
    } catch (error) {
      this.options.onFlushFailed?.();
      this.options.logger.debug({ err: error, documents: uses.length }, `recording operations in ${this.options.log.description} failed; kept for the next flush`);
      if (!this.closed) this.restore(batch);
    }
  }

  /** Puts a failed batch back under the newer counts, within maxPending. */
  private restore(batch: Map<string, Pending>): void {
    for (const [key, entry] of batch) {
      const newer = this.pending.get(key);
      if (newer) {
        newer.count += entry.count;
      } else if (this.pending.size < this.options.maxPending) {
        this.pending.set(key, entry);
      } else {
        this.options.onDropped?.();
      }
    }
  }

  /** Apollo plugin: records each operation once it resolved (parsed, valid, its operation known), before it runs. */
  plugin(): ApolloServerPlugin<GatewayContext> {
    return {
      requestDidStart: async () => ({
        didResolveOperation: async ({ source, queryHash, operationName, contextValue }) => {
          this.record(queryHash, source, operationName ?? null, contextValue.client.name);
        },
      }),
    };
  }

  /** Stops the timer and writes what is left (a shutdown loses no counts while the log answers). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    this.closed = true;
    await this.flush();
  }
}

function normalize(source: string): string {
  try {
    return stripIgnoredCharacters(source);
  } catch {
    return source;
  }
}
