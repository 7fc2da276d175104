import { relativeVariance, type Spread, tQuantile95, welchDf } from "./stats.js";
import {
  formatRepeats,
  formatTolerance,
  positionAgainstBand,
  type RepeatsEstimate,
  repeatsEstimate,
  settlingHalfWidth,
} from "./verdict.js";

/**
 * What the report may say about E(N) given the noise it measured (docs/noise.md):
 *   - the 95% interval of E(N) comes from the repeats of T(N) and T(N₀): the relative standard
 *     errors of the two means in quadrature (the delta method), Welch–Satterthwaite degrees of
 *     freedom;
 *   - the words follow the interval against the band 100% ± tolerance (verdict.ts): linear within
 *     ±tolerance, sub-linear, superlinear (suspect), or inconclusive with the repeats that would
 *     settle it;
 *   - without repeats there is no interval, and with repeats that did not vary at all there is
 *     none either: each is said, never drawn as a band.
 */

export type EfficiencyVerdict =
  | "linear"
  | "sub_linear"
  | "superlinear_suspect"
  | "inconclusive"
  | "no_spread"
  | "unmeasured";

export const NOISE_NOT_MEASURED = "noise not measured (repeats: 1); run with repeats ≥ 3";
export const NO_SPREAD = "no spread measured: every repeat gave the same number, so no interval";

export interface EfficiencyJudgement {
  verdict: EfficiencyVerdict;
  tolerance: number;
  /** The 95% interval of E(N), when both scales were repeated and varied. */
  interval?: [number, number];
  /** Inconclusive: repeats per scale that would settle it at the spread measured. */
  settle?: RepeatsEstimate;
}

/** Judges E(N) = T(N) / (N/N₀ · T(N₀)) from the spreads of T(N) and T(N₀) over their repeats. */
export function judgeEfficiency(
  efficiency: number,
  spread: Spread | undefined,
  baseSpread: Spread | undefined,
  tolerance: number,
): EfficiencyJudgement {
  if (!spread || !baseSpread || spread.mean === 0 || baseSpread.mean === 0)
    return { verdict: "unmeasured", tolerance };
  const parts = [relativeVariance(spread), relativeVariance(baseSpread)];
  const variance = parts[0]!.variance + parts[1]!.variance;
  if (variance === 0) return { verdict: "no_spread", tolerance };
  const halfWidth = tQuantile95(welchDf(parts)) * Math.sqrt(variance) * efficiency;
  // E cannot be negative: a first-order interval that reaches below 0 (a spread of tens of percent
  // from two repeats) stops at 0 rather than claim the impossible.
  const interval: [number, number] = [Math.max(0, efficiency - halfWidth), efficiency + halfWidth];
  const position = positionAgainstBand(interval[0], interval[1], tolerance);
  const judgement: EfficiencyJudgement = { verdict: VERDICT_OF[position], tolerance, interval };
  if (position === "inconclusive") {
    // Per-repeat relative variance of each side (cv²), so n repeats a side give variance / n.
    const perRepeat = parts[0]!.variance * spread.n + parts[1]!.variance * baseSpread.n;
    const needed = settlingHalfWidth(efficiency, 1 - tolerance, 1 + tolerance, 1) / efficiency;
    const ran = Math.min(spread.n, baseSpread.n);
    judgement.settle = repeatsEstimate(perRepeat, welchDf(parts), needed, (n) => 2 * n - 2, ran);
  }
  return judgement;
}

const VERDICT_OF = {
  within: "linear",
  below: "sub_linear",
  above: "superlinear_suspect",
  inconclusive: "inconclusive",
} as const;

/** The words of a verdict, as the tables, the summary and the terminal print them. */
export function verdictWords(j: EfficiencyJudgement): string {
  switch (j.verdict) {
    case "linear":
      return `linear within ±${formatTolerance(j.tolerance)}`;
    case "sub_linear":
      return `sub-linear, at least ${formatShortfall(1 - (j.interval as [number, number])[1])} below linear`;
    case "superlinear_suspect":
      return "superlinear, suspect";
    case "inconclusive":
      return `inconclusive: ${formatRepeats(j.settle as RepeatsEstimate)} repeats per scale would settle it`;
    case "no_spread":
      return NO_SPREAD;
    case "unmeasured":
      return NOISE_NOT_MEASURED;
  }
}

/** The verdict's short name for a narrow column ("linear ±5%", "inconclusive"). */
export function verdictShort(j: EfficiencyJudgement): string {
  switch (j.verdict) {
    case "linear":
      return `linear ±${formatTolerance(j.tolerance)}`;
    case "sub_linear":
      return `sub-linear ≥${formatShortfall(1 - (j.interval as [number, number])[1])}`;
    case "superlinear_suspect":
      return "superlinear, suspect";
    case "inconclusive":
      return "inconclusive";
    case "no_spread":
      return "no spread measured";
    case "unmeasured":
      return "noise not measured";
  }
}

function formatShortfall(fraction: number): string {
  const p = fraction * 100;
  return `${p >= 10 ? p.toFixed(0) : p.toFixed(1)}%`;
}
