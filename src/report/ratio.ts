import {
  type RelativeVariance,
  relativeVariance,
  type Spread,
  spreadOf,
  tQuantile95,
  welchDf,
} from "./stats.js";
import {
  type Position,
  positionAgainstBand,
  type RepeatsEstimate,
  repeatsEstimate,
  settlingHalfWidth,
} from "./verdict.js";

/**
 * Ratios of repeated means (Turbo / OSS per level, and their geometric mean over the levels of a
 * scale) on the log scale, where ratios multiply and an interval can never reach below zero:
 * log(a/b) has variance cv_a²/n_a + cv_b²/n_b (the delta method), and the geometric mean of L
 * level ratios has the mean of their logs, so its variance is the sum of theirs over L². That is
 * the uncertainty of the mean the verdict states, not a single level's.
 */

export interface RatioEstimate {
  /** The ratio of the means (or the geometric mean of such ratios). */
  ratio: number;
  /** The variance terms of log(ratio), one per repeated side; undefined when a side has no repeats. */
  parts?: RelativeVariance[];
}

/** a / b at one level, with the spreads of both sides' repeats when both were repeated. */
export function levelRatio(a: number, b: number, aRepeats: readonly number[], bRepeats: readonly number[]) {
  const estimate: RatioEstimate = { ratio: a / b };
  const sa = spreadOf(aRepeats);
  const sb = spreadOf(bRepeats);
  if (usable(sa) && usable(sb)) estimate.parts = [relativeVariance(sa), relativeVariance(sb)];
  return estimate;
}

function usable(spread: Spread | undefined): spread is Spread {
  return spread !== undefined && spread.mean > 0;
}

/** The geometric mean of level ratios; it has an interval only when every level has one. */
export function geometricMeanRatio(levels: readonly RatioEstimate[]): RatioEstimate {
  const l = levels.length;
  const ratio = Math.exp(levels.reduce((acc, e) => acc + Math.log(e.ratio), 0) / l);
  if (l === 0 || levels.some((e) => e.parts === undefined)) return { ratio };
  const parts = levels
    .flatMap((e) => e.parts ?? [])
    .map((p) => ({ variance: p.variance / l ** 2, df: p.df }));
  return { ratio, parts };
}

export type RatioJudgement =
  | { kind: "unmeasured" }
  | { kind: "no_spread" }
  | { kind: Position; interval: [number, number]; settle?: RepeatsEstimate };

/** The interval of a ratio against 1 ± tolerance (verdict.ts), and what would settle it. */
export function judgeRatio(estimate: RatioEstimate, tolerance: number): RatioJudgement {
  const parts = estimate.parts;
  if (!parts) return { kind: "unmeasured" };
  const variance = parts.reduce((acc, p) => acc + p.variance, 0);
  if (variance === 0) return { kind: "no_spread" };
  const df = welchDf(parts);
  const log = Math.log(estimate.ratio);
  const half = tQuantile95(df) * Math.sqrt(variance);
  const interval: [number, number] = [Math.exp(log - half), Math.exp(log + half)];
  const kind = positionAgainstBand(interval[0], interval[1], tolerance);
  if (kind !== "inconclusive") return { kind, interval };
  // The variance one repeat per side would give (each term is cv² / n), and the degrees of freedom
  // n repeats on every side would have.
  const perRepeat = parts.reduce((acc, p) => acc + p.variance * (p.df + 1), 0);
  const needed = settlingHalfWidth(log, Math.log(1 - tolerance), Math.log(1 + tolerance), 0);
  const ran = Math.min(...parts.map((p) => p.df + 1));
  return {
    kind,
    interval,
    settle: repeatsEstimate(perRepeat, df, needed, (n) => parts.length * (n - 1), ran),
  };
}
