import { tQuantile95, varianceFactorRange95 } from "./stats.js";

/**
 * The one rule every verdict of the report follows (docs/noise.md): a 95% interval of a ratio
 * (E(N), or Turbo / OSS) is judged against the band 1 ± tolerance, the difference a reader would
 * not care about.
 *
 *   - the whole interval inside the band: "the same, within ±tolerance" (equivalence);
 *   - the whole interval below 1, or above 1: a difference, of at least the interval's near end;
 *   - otherwise it holds 1 and reaches outside the band: inconclusive, and the repeats that would
 *     settle it at the measured spread are stated, with how uncertain that count is.
 *
 * "Holds 1" alone is never a verdict: an interval from 40% to 120% holds 100% and says nothing.
 */

export const DEFAULT_TOLERANCE = 0.05;

/** Two repeats measure a spread from one degree of freedom per side: too little to trust it. */
export const MIN_REPEATS = 3;

/** Beyond this the count is reported as "more than", not searched for. */
const MAX_REPEATS = 10_000;

export type Position = "within" | "below" | "above" | "inconclusive";

export function positionAgainstBand(low: number, high: number, tolerance: number): Position {
  if (low >= 1 - tolerance && high <= 1 + tolerance) return "within";
  if (high < 1) return "below";
  if (low > 1) return "above";
  return "inconclusive";
}

/** How many repeats per side would settle a verdict, and the 95% range of that count. */
export interface RepeatsEstimate {
  repeats: number;
  /** The count is itself estimated from the measured spread: these are its 95% bounds. */
  low: number;
  high: number;
}

/**
 * The smallest n ≥ `from` (at least MIN_REPEATS) with t(df(n)) × √(perRepeatVariance / n) ≤
 * halfWidth: the repeats per side that bring a 95% half-width down to `halfWidth` if the spread
 * stays as measured.
 */
export function repeatsForHalfWidth(
  perRepeatVariance: number,
  halfWidth: number,
  dfAt: (n: number) => number,
  from = MIN_REPEATS,
): number {
  const first = Math.max(MIN_REPEATS, from);
  if (perRepeatVariance === 0) return first;
  for (let n = first; n < MAX_REPEATS; n++) {
    if (tQuantile95(dfAt(n)) * Math.sqrt(perRepeatVariance / n) <= halfWidth) return n;
  }
  return MAX_REPEATS;
}

/**
 * The count with its uncertainty: the measured variance has `measuredDf` degrees of freedom, so the
 * true one lies (95%) within a χ² factor of it, and so does the count. From 3 repeats a side the
 * count may be a third of, or eight times, the point estimate.
 *
 * The count is always more than the `ran` repeats that left the verdict open: those did not settle
 * it, whatever the formula says (it assumes 2n − 2 degrees of freedom, and the Welch interval that
 * was judged had fewer), so "3 repeats would settle it" after 3 ran is never printed.
 */
export function repeatsEstimate(
  perRepeatVariance: number,
  measuredDf: number,
  halfWidth: number,
  dfAt: (n: number) => number,
  ran: number,
): RepeatsEstimate {
  const [lowFactor, highFactor] = varianceFactorRange95(measuredDf);
  const count = (variance: number) => repeatsForHalfWidth(variance, halfWidth, dfAt, ran + 1);
  return {
    repeats: count(perRepeatVariance),
    low: count(perRepeatVariance * lowFactor),
    high: count(perRepeatVariance * highFactor),
  };
}

/**
 * The half-width, in the interval's own units around `point`, that would settle it: small enough
 * either to fit inside the band or to clear 1, whichever asks less. At 80% with ±5% that is 20
 * points (clear of 100%); at 99% it is 4 (inside 95–105%).
 */
export function settlingHalfWidth(point: number, bandLow: number, bandHigh: number, one: number): number {
  const inside = Math.min(bandHigh - point, point - bandLow);
  return Math.max(inside, Math.abs(point - one));
}

/** "4", "4–40", "more than 10,000". */
export function formatRepeats(estimate: RepeatsEstimate): string {
  const n = (v: number) => (v >= MAX_REPEATS ? `>${MAX_REPEATS.toLocaleString("en-US")}` : String(v));
  return estimate.low === estimate.high
    ? n(estimate.repeats)
    : `${n(estimate.repeats)} (${n(estimate.low)}–${n(estimate.high)})`;
}

/** 0.05 → "5%", 0.025 → "2.5%". */
export function formatTolerance(tolerance: number): string {
  return `${Number((tolerance * 100).toFixed(1))}%`;
}
