/**
 * The few statistics repeated measurements need, for small samples (a level repeated 2–5 times):
 * mean, sample standard deviation, and a 95% confidence interval from Student's t, because with
 * n = 3 a normal-approximation interval would be far too narrow. Shared by the benchmark (a
 * level's interval over its repeats) and the report (intervals of ratios).
 */

export interface Spread {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1). */
  std: number;
  min: number;
  max: number;
  /** Half-width of the 95% confidence interval of the mean. */
  ci95: number;
}

/** Two-sided 97.5% quantiles of Student's t for 1…30 degrees of freedom. */
const T_975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** t quantile for a 95% two-sided interval; fractional degrees of freedom round down (wider, safer). */
export function tQuantile95(degreesOfFreedom: number): number {
  const df = Math.floor(degreesOfFreedom);
  if (!(df >= 1)) return Number.POSITIVE_INFINITY;
  if (df > T_975.length) return df > 120 ? 1.96 : 2.0;
  return T_975[df - 1] as number;
}

export function mean(values: readonly number[]): number {
  return values.reduce((acc, v) => acc + v, 0) / values.length;
}

/** The spread of repeated measurements; undefined unless there are at least two. */
export function spreadOf(values: readonly number[]): Spread | undefined {
  const n = values.length;
  if (n < 2) return undefined;
  const m = mean(values);
  const variance = values.reduce((acc, v) => acc + (v - m) ** 2, 0) / (n - 1);
  const std = Math.sqrt(variance);
  return {
    n,
    mean: m,
    std,
    min: Math.min(...values),
    max: Math.max(...values),
    ci95: (tQuantile95(n - 1) * std) / Math.sqrt(n),
  };
}
