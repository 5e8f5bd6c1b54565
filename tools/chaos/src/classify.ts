import type { SubgraphName } from '@shop/db';
import type { Sample } from './load.ts';

export type Outcome = 'ok' | 'degraded' | 'failed';

/**
 * ok: a 200 with every field and no error. degraded: a 200 that lacks only fields of the faulted
 * parts (what the issue asks for: a failure costs only what failed). failed: anything else, a
 * non-200, no answer at all, or a missing field of a part that was not faulted.
 */
export function outcomeOf(sample: Sample, faulted: ReadonlySet<SubgraphName>): Outcome {
  if (sample.status === 200 && sample.codes.length === 0 && sample.missing.length === 0) return 'ok';
  if (sample.status !== 200) return 'failed';
  if (sample.missing.some((part) => !faulted.has(part))) return 'failed';
  // Errors with nothing missing (e.g. a coded error beside complete data) count as degraded only while something is faulted.
  return faulted.size > 0 ? 'degraded' : 'failed';
}

/** Fields of a part that was not faulted are missing: the failure cost more than what failed. */
export function failedOutside(sample: Sample, faulted: ReadonlySet<SubgraphName>): boolean {
  return sample.missing.some((part) => !faulted.has(part));
}

export interface PhaseStats {
  requests: number;
  ok: number;
  degraded: number;
  failed: number;
  /** Answers missing fields of parts that were not faulted. */
  outside: number;
  /** HTTP status (or "network") -> answers. */
  byStatus: Record<string, number>;
  /** Error code -> answers carrying it (an answer with two codes counts for both). */
  byCode: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Refused connection attempts and connections closed before an answer (both retried by the client). */
  refused: number;
  closed: number;
  /** Answers whose error messages carry a network address or a socket error. */
  leaks: number;
  apqMisses: number;
  /** The most frequent error messages of answers that were not ok, with their operation. */
  messages: Record<string, number>;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function phaseStats(samples: Sample[], faulted: ReadonlySet<SubgraphName>): PhaseStats {
  const stats: PhaseStats = {
    requests: samples.length,
    ok: 0,
    degraded: 0,
    failed: 0,
    outside: 0,
    byStatus: {},
    byCode: {},
    p50Ms: 0,
    p99Ms: 0,
    maxMs: 0,
    refused: 0,
    closed: 0,
    leaks: 0,
    apqMisses: 0,
    messages: {},
  };
  for (const sample of samples) {
    stats[outcomeOf(sample, faulted)] += 1;
    if (failedOutside(sample, faulted)) stats.outside += 1;
    const status = sample.status === null ? 'network' : String(sample.status);
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
    for (const code of new Set(sample.codes)) stats.byCode[code] = (stats.byCode[code] ?? 0) + 1;
    stats.refused += sample.refused;
    stats.closed += sample.closed;
    if (sample.leak) stats.leaks += 1;
    if (sample.apqMiss) stats.apqMisses += 1;
    if (sample.message) {
      const message = `${sample.op}: ${sample.message.slice(0, 160)}`;
      stats.messages[message] = (stats.messages[message] ?? 0) + 1;
    }
  }
  const latencies = samples.map((s) => s.end - s.start).sort((a, b) => a - b);
  stats.p50Ms = percentile(latencies, 50);
  stats.p99Ms = percentile(latencies, 99);
  stats.maxMs = latencies.at(-1) ?? 0;
  return stats;
}

export interface Recovery {
  /**
   * From the end of the fault to the sending of the first request that got a fully correct
   * answer; null: none did. Counted to the sending, not the answer, so that a slow answer on a
   * busy machine does not read as a slow recovery.
   */
  recoveredMs: number | null;
  /** How long that first correct answer took. */
  answerMs: number | null;
  /** Answers that were not fully correct after that first correct one (a flapping recovery). */
  badAfter: number;
}

/**
 * How soon after the fault ended (`repairedAt`) requests were answered fully again, among the
 * operations that read a faulted part (the others never stopped being correct).
 */
export function recoveryOf(samples: Sample[], repairedAt: number, relevant: (sample: Sample) => boolean): Recovery {
  const after = samples.filter((s) => s.start >= repairedAt && relevant(s)).sort((a, b) => a.start - b.start);
  const first = after.findIndex((s) => outcomeOf(s, new Set()) === 'ok');
  if (first === -1) return { recoveredMs: null, answerMs: null, badAfter: 0 };
  const badAfter = after.slice(first + 1).filter((s) => outcomeOf(s, new Set()) !== 'ok').length;
  const sample = after[first]!;
  return { recoveredMs: sample.start - repairedAt, answerMs: sample.end - sample.start, badAfter };
}
