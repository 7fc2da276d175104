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
 *
 * The slice rates follow the window's own rule (each request's output spread over its time in
 * flight, src/bench/aggregate.ts), not the instants tokens arrived: a closed loop with fixed
 * lengths moves in waves, a wave's prefill carries no tokens, and halves that split a wave unevenly
 * differed by up to 48% on a perfectly steady server. Spread over time in flight, a steady closed
 * loop has a flat rate wherever the wave boundaries fall, while a slowdown still shows, as the
 * requests in flight after it take longer.
 *
 * A window shorter than the level's median request cannot show a change (every slice is made of
 * the same few requests): it is not judged, and says so (`notJudged`), so that a slowdown never
 * hides behind a verdict nobody gave.
 */

/** Slices of the measurement window, reported in the result file (pairs of them are the fifths). */
export const STEADINESS_SLICES = 10;
/** |second-half rate − first-half rate| / mean rate above this is a drift. */
export const MAX_HALVES_CHANGE = 0.2;
/** Coefficient of variation of the fifths' rates above this is a swing. */
export const MAX_FIFTHS_CV = 0.25;
/**
 * Below this many output tokens per slice (on average) the rates rest on too few tokens to mean
 * anything: such a window is not judged.
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
  /** What tripped it, in words; empty when steady. */
  reasons: string[];
}

/** The window could not be judged, and why (in words, for the level's warning). */
export interface NotJudged {
  verdict: "not_judged";
  reason: string;
}

/**
 * Judges the slice rates. `requestSeconds` is the level's median request duration (0 when
 * unknown). Not judged: no slices (a fallback window has no steady state to slice), a window
 * shorter than a median request, or too few tokens per slice.
 */
export function assessSteadiness(
  sliceRates: readonly number[],
  sliceSeconds: number,
  requestSeconds = 0,
): Steadiness | NotJudged {
  const k = sliceRates.length;
  if (k !== STEADINESS_SLICES || !(sliceSeconds > 0))
    return { verdict: "not_judged", reason: "there is no steady-state window to slice" };
  const windowSeconds = k * sliceSeconds;
  if (windowSeconds < requestSeconds) {
    return {
      verdict: "not_judged",
      reason: `the window (${windowSeconds.toFixed(2)} s) is shorter than the median request (${requestSeconds.toFixed(2)} s), so no part of it differs from another`,
    };
  }
  const mean = average(sliceRates);
  if (!(mean * sliceSeconds >= MIN_TOKENS_PER_SLICE)) {
    return {
      verdict: "not_judged",
      reason: `the window's slices hold ${Math.round(mean * sliceSeconds)} output tokens each on average, fewer than ${MIN_TOKENS_PER_SLICE}`,
    };
  }
  const halvesChange = (average(sliceRates.slice(k / 2)) - average(sliceRates.slice(0, k / 2))) / mean;
  const fifths = Array.from({ length: 5 }, (_, i) => average(sliceRates.slice(2 * i, 2 * i + 2)));
  const fifthsCv = Math.sqrt(fifths.reduce((acc, r) => acc + (r - mean) ** 2, 0) / 4) / mean;
  const reasons: string[] = [];
  if (Math.abs(halvesChange) > MAX_HALVES_CHANGE) {
    reasons.push(
      `the second half's rate is ${Math.round(Math.abs(halvesChange) * 100)}% ${halvesChange < 0 ? "below" : "above"} the first half's (limit ${percent(MAX_HALVES_CHANGE)})`,
    );
  }
  if (fifthsCv > MAX_FIFTHS_CV) {
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
    reasons,
  };
}

function average(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}
