/**
 * Was the server steady while a level was measured? The window is cut into equal slices and the
 * output token rate of each is compared: a service that slows down (or speeds up) during the
 * level, or swings from one part of it to the next, does not have one throughput, and a single
 * number for the level would hide that.
 *
 * Two things trip it (docs/noise.md has the measurements behind the thresholds):
 *   - drift: the second half's rate differs from the first half's by more than MAX_HALVES_CHANGE
 *     of the mean;
 *   - swing: the rates of the window's fifths (pairs of adjacent slices) have a coefficient of
 *     variation above MAX_FIFTHS_CV.
 * Single slices are not compared with each other: a closed loop whose clients all start together
 * sends its requests in waves, and a slice that falls on a wave's prefill carries few tokens
 * although the server is perfectly steady (up to ±40% between neighbouring slices on the
 * noise-free simulator). Halves and fifths average over those waves, but only when they are at
 * least one request long: the swing test is skipped (and says so) when a fifth is shorter than the
 * median request, and nothing is judged when a half is.
 */

/** Slices of the measurement window, reported in the result file (pairs of them are the fifths). */
export const STEADINESS_SLICES = 10;
/** |second-half rate − first-half rate| / mean rate above this is a drift. */
export const MAX_HALVES_CHANGE = 0.2;
/** Coefficient of variation of the fifths' rates above this is a swing. */
export const MAX_FIFTHS_CV = 0.25;
/**
 * Below this many output tokens per slice (on average) the rates mostly show when single tokens
 * happened to land, not the server: such a window is not judged.
 */
export const MIN_TOKENS_PER_SLICE = 50;

export interface Steadiness {
  verdict: "steady" | "unsteady";
  /** Output tokens per second in each slice, in time order. */
  sliceRates: number[];
  sliceSeconds: number;
  /** (second-half rate − first-half rate) / mean rate. */
  halvesChange: number;
  /** Sample standard deviation / mean of the fifths' rates. */
  fifthsCv: number;
  /** Whether the fifths were long enough (≥ one median request) for fifthsCv to be judged. */
  swingJudged: boolean;
  /** What tripped it, in words; empty when steady. */
  reasons: string[];
}

/**
 * Judges the slice rates; undefined when there is nothing to judge (not STEADINESS_SLICES
 * slices, too few tokens per slice for the rates to mean anything, or halves shorter than a
 * request). `requestSeconds` is the level's median request duration (0 when unknown).
 */
export function assessSteadiness(
  sliceRates: readonly number[],
  sliceSeconds: number,
  requestSeconds = 0,
): Steadiness | undefined {
  const k = sliceRates.length;
  if (k !== STEADINESS_SLICES || !(sliceSeconds > 0)) return undefined;
  if ((k / 2) * sliceSeconds < requestSeconds) return undefined;
  const swingJudged = 2 * sliceSeconds >= requestSeconds;
  const mean = average(sliceRates);
  if (!(mean * sliceSeconds >= MIN_TOKENS_PER_SLICE)) return undefined;
  const halvesChange = (average(sliceRates.slice(k / 2)) - average(sliceRates.slice(0, k / 2))) / mean;
  const fifths = Array.from({ length: 5 }, (_, i) => average(sliceRates.slice(2 * i, 2 * i + 2)));
  const fifthsCv = Math.sqrt(fifths.reduce((acc, r) => acc + (r - mean) ** 2, 0) / 4) / mean;
  const reasons: string[] = [];
  if (Math.abs(halvesChange) > MAX_HALVES_CHANGE) {
    reasons.push(
      `the second half's rate is ${Math.round(Math.abs(halvesChange) * 100)}% ${halvesChange < 0 ? "below" : "above"} the first half's (limit ${percent(MAX_HALVES_CHANGE)})`,
    );
  }
  if (swingJudged && fifthsCv > MAX_FIFTHS_CV) {
    reasons.push(
      `the rate varies by ${Math.round(fifthsCv * 100)}% between fifths of the window (coefficient of variation, limit ${percent(MAX_FIFTHS_CV)})`,
    );
  }
  return {
    verdict: reasons.length > 0 ? "unsteady" : "steady",
    sliceRates: [...sliceRates],
    sliceSeconds,
    halvesChange,
    fifthsCv,
    swingJudged,
    reasons,
  };
}

function average(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}
