/**
 * The statistics of the report beyond a single spread: intervals of ratios of repeated means, and
 * geometric means. Spreads themselves live in model/spread.ts (the benchmark needs them too).
 */

import { mean, type Spread, tQuantile95 } from "../model/spread.js";

export { mean, type Spread, spreadOf, tQuantile95 } from "../model/spread.js";

/**
 * 95% CI half-width, relative to the value, of a ratio a/b of two independent means (speed-up,
 * efficiency, Turbo/OSS): the relative standard errors add in quadrature (first-order, the delta
 * method), with Welch–Satterthwaite degrees of freedom. Needs the spread of both sides: an
 * unrepeated side has an unknown variance, not a zero one.
 */
export function ratioRelativeCi95(a: Spread | undefined, b: Spread | undefined): number | undefined {
  if (!a || !b || a.mean === 0 || b.mean === 0) return undefined;
  const va = (a.std / a.mean) ** 2 / a.n;
  const vb = (b.std / b.mean) ** 2 / b.n;
  const variance = va + vb;
  if (variance === 0) return 0;
  const df = variance ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1));
  return tQuantile95(df) * Math.sqrt(variance);
}

export function geometricMean(values: readonly number[]): number {
  return Math.exp(mean(values.map((v) => Math.log(v))));
}
