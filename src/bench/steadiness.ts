/**
 * Was the server steady while a level was measured? The window is cut into equal slices and the
 * output token rate of each slice is compared: a service that slows down (or speeds up) during
 * the level, or swings from slice to slice, does not have one throughput, and a single number
 * for the level would hide that. docs/noise.md explains the test and how its thresholds were
 * chosen.
 */

/** Slices of the measurement window (at least 5; 10 keeps a slice several engine steps long). */
export const STEADINESS_SLICES = 10;
/**
 * Below this many output tokens per slice (on average) the slice rates mostly show when single
 * tokens happened to land, not the server: such a window is not judged.
 */
export const MIN_TOKENS_PER_SLICE = 50;
/** |fitted change from the first slice to the last| / mean rate above this = a drift. */
export const MAX_RELATIVE_DRIFT = 0.25;
/** Standard deviation / mean of the slice rates above this = the rate swings. */
export const MAX_SLICE_CV = 0.2;

export interface Steadiness {
  verdict: "steady" | "unsteady";
  /** Output tokens per second in each slice, in time order. */
  sliceRates: number[];
  sliceSeconds: number;
  /** Least-squares slope over the slices × (slices − 1) / mean: the change across the window. */
  relativeDrift: number;
  /** Coefficient of variation of the slice rates (sample standard deviation / mean). */
  cv: number;
  /** What tripped it, in words; empty when steady. */
  reasons: string[];
}

/**
 * Judges the slice rates; undefined when there is nothing to judge (too few slices, or too few
 * tokens per slice for the rates to mean anything).
 */
export function assessSteadiness(
  sliceRates: readonly number[],
  sliceSeconds: number,
): Steadiness | undefined {
  const k = sliceRates.length;
  if (k < 5 || !(sliceSeconds > 0)) return undefined;
  const mean = sliceRates.reduce((a, b) => a + b, 0) / k;
  if (!(mean * sliceSeconds >= MIN_TOKENS_PER_SLICE)) return undefined;
  const center = (k - 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let ss = 0;
  for (let i = 0; i < k; i++) {
    const dx = i - center;
    const dy = (sliceRates[i] as number) - mean;
    sxy += dx * dy;
    sxx += dx * dx;
    ss += dy * dy;
  }
  const relativeDrift = ((sxy / sxx) * (k - 1)) / mean;
  const cv = Math.sqrt(ss / (k - 1)) / mean;
  const reasons: string[] = [];
  if (Math.abs(relativeDrift) > MAX_RELATIVE_DRIFT) {
    reasons.push(
      `the rate ${relativeDrift < 0 ? "fell" : "rose"} ${Math.round(Math.abs(relativeDrift) * 100)}% across the window (limit ${Math.round(MAX_RELATIVE_DRIFT * 100)}%)`,
    );
  }
  if (cv > MAX_SLICE_CV) {
    reasons.push(
      `the slice rates vary by ${Math.round(cv * 100)}% (coefficient of variation, limit ${Math.round(MAX_SLICE_CV * 100)}%)`,
    );
  }
  return {
    verdict: reasons.length > 0 ? "unsteady" : "steady",
    sliceRates: [...sliceRates],
    sliceSeconds,
    relativeDrift,
    cv,
    reasons,
  };
}
