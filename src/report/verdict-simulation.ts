import { Random } from "../random.js";
import { throughputVerdict, type VerdictKind } from "./compare.js";
import { type EfficiencyVerdict, judgeEfficiency } from "./noise.js";
import { levelRatio } from "./ratio.js";
import { spreadOf } from "./stats.js";

/**
 * How often the report's verdicts are right, by simulation: repeated measurements are drawn with a
 * known truth and a known between-repeat spread, and judged by the very functions the report uses.
 * The rates are stated in docs/noise.md (scripts/verdict-rates.mjs prints them) and pinned by tests.
 *
 * A measurement is the true value times a log-normal factor of mean 1 whose standard deviation is
 * the coefficient of variation `cv`: the repeats of one level at one scale on one deployment.
 */

export interface ComparisonSetup {
  levels: number;
  repeats: number;
  /** Between-repeat coefficient of variation of each side's throughput. */
  cv: number;
  /** Turbo / OSS, the same at every level. */
  trueRatio: number;
  tolerance: number;
  trials: number;
  seed: number;
}

export type Rates<K extends string> = Partial<Record<K, number>>;

/** The share of trials that end in each OSS vs Turbo verdict of one scale. */
export function simulateComparison(setup: ComparisonSetup): Rates<VerdictKind> {
  const random = Random.stream(setup.seed, "comparison");
  const counts: Rates<VerdictKind> = {};
  for (let trial = 0; trial < setup.trials; trial++) {
    const levels = Array.from({ length: setup.levels }, (_, level) => {
      const base = 1000 * 2 ** level;
      const oss = draw(random, base, setup.cv, setup.repeats);
      const turbo = draw(random, base * setup.trueRatio, setup.cv, setup.repeats);
      return levelRatio(mean(turbo), mean(oss), turbo, oss);
    });
    const { kind } = throughputVerdict(levels, setup.tolerance);
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return shares(counts, setup.trials);
}

export interface EfficiencySetup {
  repeats: number;
  cv: number;
  /** The true E(N). */
  trueEfficiency: number;
  tolerance: number;
  trials: number;
  seed: number;
}

/** The share of trials that end in each E(N) verdict (N = 2, N₀ = 1). */
export function simulateEfficiency(setup: EfficiencySetup): Rates<EfficiencyVerdict> {
  const random = Random.stream(setup.seed, "efficiency");
  const counts: Rates<EfficiencyVerdict> = {};
  for (let trial = 0; trial < setup.trials; trial++) {
    const base = draw(random, 1000, setup.cv, setup.repeats);
    const two = draw(random, 2000 * setup.trueEfficiency, setup.cv, setup.repeats);
    const e = mean(two) / (2 * mean(base));
    const { verdict } = judgeEfficiency(e, spreadOf(two), spreadOf(base), setup.tolerance);
    counts[verdict] = (counts[verdict] ?? 0) + 1;
  }
  return shares(counts, setup.trials);
}

function draw(random: Random, truth: number, cv: number, n: number): number[] {
  const sigma = Math.sqrt(Math.log(1 + cv ** 2));
  return Array.from({ length: n }, () => truth * Math.exp(sigma * random.normal() - sigma ** 2 / 2));
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function shares<K extends string>(counts: Rates<K>, trials: number): Rates<K> {
  const out: Rates<K> = {};
  for (const [kind, count] of Object.entries(counts) as Array<[K, number]>) out[kind] = count / trials;
  return out;
}
