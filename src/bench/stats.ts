import type { LatencyStats } from "../model/types.js";

/**
 * Descriptive statistics as vLLM computes them (numpy): mean, median, population standard
 * deviation, and percentiles by linear interpolation between order statistics. Two containers:
 * `Samples` keeps every value (one per request: TTFT, TPOT, E2EL), `MicrosHistogram` keeps exact
 * counts of integer microsecond values (one per chunk: ITL), which gives the same percentiles as
 * sorting every sample, in constant memory, and merges exactly across parts.
 */

export const PERCENTILES = [50, 90, 95, 99, 99.9] as const;

/** Position of percentile p among n sorted values (numpy's default "linear" method). */
function rank(p: number, n: number): { lower: number; fraction: number } {
  const position = (p / 100) * (n - 1);
  const lower = Math.floor(position);
  return { lower, fraction: position - lower };
}

/** Growable list of numbers, one per request. */
export class Samples {
  private values = new Float64Array(1024);
  private size = 0;

  get count(): number {
    return this.size;
  }

  add(value: number): void {
    if (this.size === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.size++] = value;
  }

  /** Statistics of the values, in the values' own unit; undefined when there are none. */
  stats(): LatencyStats | undefined {
    if (this.size === 0) return undefined;
    const sorted = this.values.subarray(0, this.size).sort();
    let sum = 0;
    for (let i = 0; i < sorted.length; i++) sum += sorted[i]!;
    const mean = sum / sorted.length;
    let squares = 0;
    for (let i = 0; i < sorted.length; i++) squares += (sorted[i]! - mean) ** 2;
    const at = (p: number) => {
      const { lower, fraction } = rank(p, sorted.length);
      const a = sorted[lower]!;
      return fraction === 0 ? a : a + fraction * (sorted[lower + 1]! - a);
    };
    return buildStats(mean, Math.sqrt(squares / sorted.length), at);
  }
}

/** Values below this (~1.05 s) get a bin each; longer ones go to a map. */
export const DIRECT_BINS = 1 << 20;

/** Exact counts of non-negative integer microsecond values, optionally weighted. */
export class MicrosHistogram {
  /**
   * The counts of values below DIRECT_BINS, exposed for the one hot loop that fills them itself
   * (aggregate.ts); it must then report what it added with `addedDirect`.
   */
  readonly bins = new Float64Array(DIRECT_BINS);
  private readonly overflow = new Map<number, number>();
  private total = 0;
  private sum = 0;

  get count(): number {
    return this.total;
  }

  add(micros: number, weight = 1): void {
    if (micros < DIRECT_BINS) this.bins[micros]! += weight;
    else this.addOverflow(micros, weight);
    this.total += weight;
    this.sum += micros * weight;
  }

  /** For callers that fill `bins` themselves: a value too large for them (counted here). */
  addOverflow(micros: number, weight: number): void {
    this.overflow.set(micros, (this.overflow.get(micros) ?? 0) + weight);
  }

  /** For callers that fill `bins` themselves: how many values (total weight) and their sum. */
  addedDirect(count: number, sum: number): void {
    this.total += count;
    this.sum += sum;
  }

  /** this + sign × other, bin by bin (sign −1 removes values added before). */
  merge(other: MicrosHistogram, sign: 1 | -1 = 1): void {
    const top = other.maxDirect();
    for (let v = 0; v <= top; v++) {
      const c = other.bins[v]!;
      if (c !== 0) this.bins[v]! += sign * c;
    }
    for (const [v, c] of other.overflow) {
      const next = (this.overflow.get(v) ?? 0) + sign * c;
      if (next === 0) this.overflow.delete(v);
      else this.overflow.set(v, next);
    }
    this.total += sign * other.total;
    this.sum += sign * other.sum;
  }

  /** A copy (bins included). */
  clone(): MicrosHistogram {
    const copy = new MicrosHistogram();
    copy.merge(this);
    return copy;
  }

  private maxDirect(): number {
    for (let v = DIRECT_BINS - 1; v >= 0; v--) if (this.bins[v] !== 0) return v;
    return -1;
  }

  /** Statistics in milliseconds, the values being microseconds; undefined when empty. */
  statsMs(): LatencyStats | undefined {
    return this.statsDividedBy(1000);
  }

  /** Statistics of value / divisor (1 for the values' own unit); undefined when empty. */
  statsDividedBy(divisor: number): LatencyStats | undefined {
    if (this.total === 0) return undefined;
    const mean = this.sum / this.total;
    const overflowValues = [...this.overflow.keys()].sort((a, b) => a - b);
    const top = this.maxDirect();
    let squares = 0;
    for (let v = 0; v <= top; v++) {
      const c = this.bins[v]!;
      if (c > 0) squares += c * (v - mean) ** 2;
    }
    for (const v of overflowValues) squares += this.overflow.get(v)! * (v - mean) ** 2;

    // Order statistics by one walk over the cumulative counts, for every rank we need.
    const wanted = PERCENTILES.flatMap((p) => {
      const { lower } = rank(p, this.total);
      return [lower, lower + 1];
    });
    const valueAt = this.orderStatistics(wanted, overflowValues, top);
    const at = (p: number) => {
      const { lower, fraction } = rank(p, this.total);
      const a = valueAt.get(lower)!;
      return fraction === 0 ? a : a + fraction * (valueAt.get(lower + 1)! - a);
    };
    const scaled = (x: number) => x / divisor;
    return buildStats(scaled(mean), scaled(Math.sqrt(squares / this.total)), (p) => scaled(at(p)));
  }

  /** The k-th smallest value (0-based) for each k in `ranks`; ranks past the end map to the max. */
  private orderStatistics(ranks: number[], overflowValues: number[], top: number): Map<number, number> {
    const pending = [...new Set(ranks)].sort((a, b) => a - b);
    const out = new Map<number, number>();
    let seen = 0;
    let next = 0;
    const visit = (value: number, count: number) => {
      seen += count;
      while (next < pending.length && pending[next]! < seen) out.set(pending[next++]!, value);
    };
    for (let v = 0; v <= top && next < pending.length; v++) {
      const c = this.bins[v]!;
      if (c > 0) visit(v, c);
    }
    for (const v of overflowValues) {
      if (next >= pending.length) break;
      visit(v, this.overflow.get(v)!);
    }
    const max = overflowValues.at(-1) ?? top;
    while (next < pending.length) out.set(pending[next++]!, max);
    return out;
  }
}

function buildStats(mean: number, std: number, at: (p: number) => number): LatencyStats {
  return {
    mean,
    median: at(50),
    std,
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    p99_9: at(99.9),
  };
}

/** Small non-negative integers (tokens per chunk): exact counts, mean and a few percentiles. */
export class SmallIntCounts {
  private readonly counts = new Float64Array(4097);
  private total = 0;
  private sum = 0;
  private max = 0;

  add(value: number, weight = 1): void {
    this.counts[Math.min(value, 4096)]! += weight;
    this.total += weight;
    this.sum += value * weight;
    if (value > this.max) this.max = value;
  }

  summary(): { mean: number; p50: number; p99: number; max: number; count: number } | undefined {
    if (this.total === 0) return undefined;
    const quantile = (p: number) => {
      const target = (p / 100) * (this.total - 1);
      let seen = 0;
      for (let v = 0; v < this.counts.length; v++) {
        seen += this.counts[v]!;
        if (seen > target) return v;
      }
      return this.max;
    };
    return {
      mean: this.sum / this.total,
      p50: quantile(50),
      p99: quantile(99),
      max: this.max,
      count: this.total,
    };
  }
}
