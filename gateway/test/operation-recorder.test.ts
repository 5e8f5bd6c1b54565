import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@shop/observability';
import { fileOperationLog, type OperationLog, type RecordedUse } from '../src/recording/operation-log.ts';
import { OperationRecorder } from '../src/recording/operation-recorder.ts';

const logger = createLogger('test', 'silent');
const limits = { retentionMs: 86_400_000, maxDocuments: 100 };

/** A log that fails while `down`, and remembers every batch it accepted. */
function fakeLog() {
  const batches: RecordedUse[][] = [];
  let calls = 0;
  const state = { down: false };
  const log: OperationLog = {
    description: 'fake',
    async add(uses) {
      calls += 1;
      if (state.down) throw new Error('Redis is down');
      batches.push([...uses]);
    },
    list: async () => [],
  };
  return { log, batches, state, calls: () => calls };
}

const recorders: OperationRecorder[] = [];
function recorder(log: OperationLog, extra: { maxPending?: number } = {}) {
  const counts = { failures: 0, dropped: 0 };
  const r = new OperationRecorder({
    log,
    logger,
    // Flushed by hand: the timer never fires within a test.
    flushIntervalMs: 600_000,
    maxPending: extra.maxPending ?? 100,
    ...limits,
    onFlushFailed: () => (counts.failures += 1),
    onDropped: () => (counts.dropped += 1),
  });
  recorders.push(r);
  return { r, counts };
}
afterEach(async () => {
  for (const r of recorders.splice(0)) await r.close().catch(() => {});
});

describe('operation recording', () => {
  it('aggregates executions in memory and writes one entry per document and client per flush', async () => {
    const { log, batches, calls } = fakeLog();
    const { r } = recorder(log);
    for (let i = 0; i < 1000; i++) r.record('h1', 'query A { a }', 'A', 'web');
    r.record('h1', 'query A { a }', 'A', 'ios');
    // The same document formatted otherwise is the same normalized document (its own in-memory entry, one hash).
    r.record('h2', 'query A {\n  a\n}', 'A', 'web');
    expect(calls()).toBe(0);
    await r.flush();
    expect(calls()).toBe(1);
    const batch = batches[0]!;
    expect(batch).toHaveLength(3);
    expect(new Set(batch.map((u) => u.documentHash)).size).toBe(1);
    expect(batch.map((u) => [u.client, u.count, u.document])).toEqual([
      ['web', 1000, 'query A{a}'],
      ['ios', 1, 'query A{a}'],
      ['web', 1, 'query A{a}'],
    ]);
    await r.flush();
    expect(calls()).toBe(1); // nothing new, nothing written
  });

  it('keeps the counts of a failed flush for the next one and counts the failure; recording never waits', async () => {
    const { log, batches, state } = fakeLog();
    const { r, counts } = recorder(log);
    state.down = true;
    r.record('h1', 'query A { a }', 'A', 'web');
    r.record('h1', 'query A { a }', 'A', 'web');
    await r.flush();
    expect(counts.failures).toBe(1);
    r.record('h1', 'query A { a }', 'A', 'web');
    state.down = false;
    await r.flush();
    expect(batches).toHaveLength(1);
    expect(batches[0]!.map((u) => u.count)).toEqual([3]);
  });

  it('bounds the distinct documents held between flushes, counting what it drops', async () => {
    const { log, batches } = fakeLog();
    const { r, counts } = recorder(log, { maxPending: 2 });
    for (const hash of ['h1', 'h2', 'h3', 'h4']) r.record(hash, `query ${hash.toUpperCase()} { a }`, null, 'web');
    r.record('h1', 'query H1 { a }', null, 'web');
    expect(counts.dropped).toBe(2);
    await r.flush();
    expect(batches[0]!.map((u) => u.count)).toEqual([2, 1]);
  });

  it('without Redis, a file in the persisted directory accumulates counts, forgets old documents and keeps the most recent', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shop-ops-'));
    try {
      const log = fileOperationLog(dir);
      const now = Date.now();
      const use = (hash: string, count: number, lastSeen: number): RecordedUse => ({ documentHash: hash, document: `{${hash}}`, operationName: null, client: 'web', count, lastSeen });
      await log.add([use('a', 2, now), use('old', 1, now - 2 * 86_400_000)], limits);
      await log.add([use('a', 3, now), use('b', 1, now - 1000), use('c', 1, now - 2000)], { retentionMs: 86_400_000, maxDocuments: 2 });
      const listed = await log.list();
      expect(listed.map((op) => [op.documentHash, op.clients[0]!.count]).sort()).toEqual([
        ['a', 5],
        ['b', 1],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
