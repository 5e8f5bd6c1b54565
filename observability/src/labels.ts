/**
 * Keeps a label's values bounded: the first `max` distinct values are kept as they are, every
 * later one is counted as "other". Operation names come from clients, so without a cap one
 * client generating names could create unbounded time series.
 */
export class BoundedLabel {
  private readonly seen = new Set<string>();
  constructor(
    private readonly max: number,
    private readonly fallback = 'anonymous',
  ) {}

  /** Pre-registers known values (e.g. the operations of a persisted manifest) so they never fall into "other". */
  allow(values: Iterable<string>): void {
    for (const value of values) this.seen.add(value);
  }

  value(raw: string | null | undefined): string {
    if (!raw) return this.fallback;
    if (this.seen.has(raw)) return raw;
    if (this.seen.size >= this.max) return 'other';
    this.seen.add(raw);
    return raw;
  }
}
