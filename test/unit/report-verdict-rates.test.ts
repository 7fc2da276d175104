import { describe, expect, it } from "vitest";
import { simulateComparison, simulateEfficiency } from "../../src/report/verdict-simulation.js";

/**
 * The verdicts' error rates, by simulation with the report's own functions (docs/noise.md gives the
 * full table from scripts/verdict-rates.mjs). 4,000 trials: a rate's standard error is below 0.8%.
 */
const TRIALS = 4000;

describe("the OSS vs Turbo verdict, simulated", () => {
  it("claims a difference that is not there at most 5% of the time (two-sided 95%)", () => {
    const r = simulateComparison({
      levels: 7,
      repeats: 3,
      cv: 0.1,
      trueRatio: 1,
      tolerance: 0.05,
      trials: TRIALS,
      seed: 1,
    });
    const falsePositive = (r.turbo_higher ?? 0) + (r.turbo_lower ?? 0) + (r.mixed ?? 0);
    expect(falsePositive).toBeLessThanOrEqual(0.06);
    // And it does not call the two the same either: 10% noise and 3 repeats cannot show ±5%.
    expect(r.equivalent ?? 0).toBeLessThan(0.02);
  });

  it("finds a real 15% difference over 7 levels × 3 repeats at 10% noise (the review's case: 0.4% before)", () => {
    const r = simulateComparison({
      levels: 7,
      repeats: 3,
      cv: 0.1,
      trueRatio: 1.15,
      tolerance: 0.05,
      trials: TRIALS,
      seed: 2,
    });
    expect(r.turbo_higher).toBeGreaterThan(0.97);
    expect(r.turbo_lower ?? 0).toBe(0);
  });

  it("calls the two the same within ±5% when they are, once the noise allows it", () => {
    const r = simulateComparison({
      levels: 7,
      repeats: 3,
      cv: 0.05,
      trueRatio: 1,
      tolerance: 0.05,
      trials: TRIALS,
      seed: 3,
    });
    expect(r.equivalent).toBeGreaterThan(0.65);
    expect((r.turbo_higher ?? 0) + (r.turbo_lower ?? 0)).toBeLessThanOrEqual(0.06);
  });
});

describe("the E(N) verdict, simulated", () => {
  it("calls a linear system sub-linear or superlinear at most 5% of the time", () => {
    const r = simulateEfficiency({
      repeats: 3,
      cv: 0.05,
      trueEfficiency: 1,
      tolerance: 0.05,
      trials: TRIALS,
      seed: 4,
    });
    expect((r.sub_linear ?? 0) + (r.superlinear_suspect ?? 0)).toBeLessThanOrEqual(0.06);
  });

  it("calls a quiet linear system linear within ±5%, and a clearly sub-linear one sub-linear", () => {
    const linear = simulateEfficiency({
      repeats: 3,
      cv: 0.01,
      trueEfficiency: 1,
      tolerance: 0.05,
      trials: TRIALS,
      seed: 5,
    });
    expect(linear.linear).toBeGreaterThan(0.85);
    expect(linear.sub_linear ?? 0).toBeLessThan(0.01);
    const sub = simulateEfficiency({
      repeats: 3,
      cv: 0.05,
      trueEfficiency: 0.8,
      tolerance: 0.05,
      trials: TRIALS,
      seed: 6,
    });
    expect(sub.sub_linear).toBeGreaterThan(0.9);
    expect(sub.linear ?? 0).toBe(0);
  });
});
