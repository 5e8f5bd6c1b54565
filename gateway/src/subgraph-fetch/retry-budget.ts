/**
 * How many retries one subgraph may get: at most `ratio` of its fetches over the last
 * `windowMs`, plus `min` that are always allowed (so a quiet subgraph can still retry).
 * Retries multiply load exactly when a subgraph struggles; a budget keeps a retry storm from
 * finishing it off (Finagle's RetryBudget, Envoy's retry budgets). Counted in one-second buckets.
 */
export class RetryBudget {
  private readonly fetches: number[];
  private readonly retries: number[];
  private readonly bucketMs: number;
  private current = 0;
  private currentStart: number;

  constructor(
    private readonly options: { ratio: number; min: number; windowMs?: number },
    private readonly now: () => number = Date.now,
  ) {
    const buckets = 10;
    this.bucketMs = (options.windowMs ?? 10_000) / buckets;
    this.fetches = new Array<number>(buckets).fill(0);
    this.retries = new Array<number>(buckets).fill(0);
    this.currentStart = now();
  }

  /** A fetch went out (first attempts only). */
  recordFetch(): void {
    this.advance();
    this.fetches[this.current]! += 1;
  }

  /** Takes one retry from the budget; false when it is spent. */
  tryRetry(): boolean {
    this.advance();
    const fetches = sum(this.fetches);
    const retries = sum(this.retries);
    if (retries >= this.options.min + Math.floor(this.options.ratio * fetches)) return false;
    this.retries[this.current]! += 1;
    return true;
  }

  /** Moves to the bucket of now, emptying the ones that fell out of the window. */
  private advance(): void {
    const elapsed = Math.floor((this.now() - this.currentStart) / this.bucketMs);
    if (elapsed <= 0) return;
    for (let i = 0; i < Math.min(elapsed, this.fetches.length); i++) {
      this.current = (this.current + 1) % this.fetches.length;
      this.fetches[this.current] = 0;
      this.retries[this.current] = 0;
    }
    this.currentStart += elapsed * this.bucketMs;
  }
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
