/**
 * The statistics of the report beyond a single spread: the relative variances that intervals of
 * ratios of repeated means are built from (noise.ts for E(N), ratio.ts for Turbo / OSS), and how
 * uncertain a variance measured from a few repeats is. Spreads themselves live in model/spread.ts
 * (the benchmark needs them too).
 */

import type { Spread } from "../model/spread.js";

export { mean, type Spread, spreadOf, tQuantile95 } from "../model/spread.js";

/**
 * The squared relative standard error of one side of a ratio (cv² / n) and its degrees of
 * freedom; zero when every repeat measured the same value.
 */
export interface RelativeVariance {
  variance: number;
  df: number;
}

export function relativeVariance(spread: Spread): RelativeVariance {
  return { variance: (spread.std / spread.mean) ** 2 / spread.n, df: spread.n - 1 };
}

/** Welch–Satterthwaite: the degrees of freedom of a sum of independently estimated variances. */
export function welchDf(parts: readonly RelativeVariance[]): number {
  const total = parts.reduce((acc, p) => acc + p.variance, 0);
  const denominator = parts.reduce((acc, p) => acc + p.variance ** 2 / p.df, 0);
  return denominator === 0 ? Number.POSITIVE_INFINITY : total ** 2 / denominator;
}

/** 2.5% and 97.5% quantiles of χ² for 1…30 degrees of freedom. */
const CHI2_025 = [
  0.000982, 0.0506, 0.2158, 0.4844, 0.8312, 1.2373, 1.6899, 2.1797, 2.7004, 3.247, 3.8157, 4.4038, 5.0088,
  5.6287, 6.2621, 6.9077, 7.5642, 8.2307, 8.9065, 9.5908, 10.2829, 10.9823, 11.6886, 12.4012, 13.1197,
  13.8439, 14.5734, 15.3079, 16.0471, 16.7908,
];
const CHI2_975 = [
  5.024, 7.378, 9.348, 11.143, 12.833, 14.449, 16.013, 17.535, 19.023, 20.483, 21.92, 23.337, 24.736, 26.119,
  27.488, 28.845, 30.191, 31.526, 32.852, 34.17, 35.479, 36.781, 38.076, 39.364, 40.646, 41.923, 43.195,
  44.461, 45.722, 46.979,
];

/** A χ² quantile (p = 0.025 or 0.975): the table up to 30 degrees of freedom, Wilson–Hilferty beyond. */
function chiSquareQuantile(p: 0.025 | 0.975, df: number): number {
  const whole = Math.max(1, Math.floor(df));
  const table = p === 0.025 ? CHI2_025 : CHI2_975;
  if (whole <= table.length) return table[whole - 1] as number;
  const z = p === 0.025 ? -1.959964 : 1.959964;
  const c = 2 / (9 * whole);
  return whole * (1 - c + z * Math.sqrt(c)) ** 3;
}

/**
 * How far the true variance may lie from one estimated with `df` degrees of freedom, as factors
 * of the estimate: the 95% interval [df/χ²(0.975), df/χ²(0.025)]. From 3 repeats per side (about
 * 4 degrees of freedom) it runs from 0.36 to 8.3 times the estimate.
 */
export function varianceFactorRange95(df: number): [number, number] {
  if (!Number.isFinite(df)) return [1, 1];
  return [df / chiSquareQuantile(0.975, df), df / chiSquareQuantile(0.025, df)];
}
