import { describe, expect, it } from "vitest";
import { analyze } from "../../src/report/analysis.js";
import { judgeEfficiency, verdictWords } from "../../src/report/noise.js";
import { spreadOf, varianceFactorRange95 } from "../../src/report/stats.js";
import { verdictLines } from "../../src/report/summary.js";
import { repeatsForHalfWidth } from "../../src/report/verdict.js";
import { experiment, level } from "../fixtures/report-data.js";

const reps = (values: number[]) => values.map((v) => ({ outputThroughput: v, requestThroughput: v / 100 }));
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const repeated = (scale: number, values: number[]) =>
  experiment("rayoss", scale, [level(4, { outputThroughput: mean(values), repeats: reps(values) })]);

/** E(2x) from 1x and 2x repeats, judged with ±5%. */
function judge(base: number[], two: number[]) {
  const e = mean(two) / (2 * mean(base));
  return judgeEfficiency(e, spreadOf(two), spreadOf(base), 0.05);
}

describe("E(N): the words follow the interval against 100% ± tolerance", () => {
  it("calls a tight interval inside the band linear, not sub-linear, even when it lies below 100%", () => {
    // 99.7% ± about 0.2: below 100%, but inside 95–105%: the useful answer is "linear within ±5%".
    const j = judge([999, 1000, 1001], [1992, 1994, 1996]);
    expect(j.interval![1]).toBeLessThan(1);
    expect(j.verdict).toBe("linear");
    expect(verdictWords(j)).toBe("linear within ±5%");
  });

  it("calls a wide interval that holds 100% inconclusive, with the repeats that would settle it", () => {
    // The H200 case: E ≈ 80% with an interval from about 40% to 120%.
    const j = judge([700, 1000, 1300], [1000, 1600, 2200]);
    expect(j.interval![0]).toBeLessThan(0.95);
    expect(j.interval![1]).toBeGreaterThan(1);
    expect(j.verdict).toBe("inconclusive");
    // To clear 100% from 80% the half-width must fall to 20 points of E: cv² of 0.09 + 0.14 per repeat.
    const cv2 =
      (spreadOf([700, 1000, 1300])!.std / 1000) ** 2 + (spreadOf([1000, 1600, 2200])!.std / 1600) ** 2;
    const e = 1600 / 2000;
    expect(j.settle!.repeats).toBe(repeatsForHalfWidth(cv2, (1 - e) / e, (n) => 2 * n - 2));
    // And that count is itself uncertain from 3 repeats a side: its 95% range is wide.
    expect(j.settle!.low).toBeLessThan(j.settle!.repeats);
    expect(j.settle!.high).toBeGreaterThan(2 * j.settle!.repeats);
    expect(verdictWords(j)).toMatch(/^inconclusive: \d+ \(\d+–\d+\) repeats per scale would settle it$/);
  });

  it("never says the repeats that ran would settle what they left open", () => {
    // E ≈ 100.7% with 95.9–105.5%: the formula alone (2n − 2 degrees of freedom, fewer than the
    // Welch interval had) answers 3, the count that was just run.
    const j = judge([1000, 1030, 970], [1990, 2010, 2040]);
    expect(j.verdict).toBe("inconclusive");
    expect(j.settle!.repeats).toBeGreaterThan(3);
    expect(j.settle!.low).toBeGreaterThan(3);
  });

  it("calls an interval wholly below 100% and reaching outside the band sub-linear, by at least its top's gap", () => {
    const j = judge([990, 1000, 1010], [1580, 1600, 1620]);
    expect(j.verdict).toBe("sub_linear");
    const gap = 1 - j.interval![1];
    expect(gap).toBeGreaterThan(0.15);
    expect(verdictWords(j)).toBe(`sub-linear, at least ${(gap * 100).toFixed(0)}% below linear`);
  });

  it("calls an interval wholly above the band superlinear, suspect", () => {
    expect(judge([990, 1000, 1010], [2380, 2400, 2420]).verdict).toBe("superlinear_suspect");
  });

  it("never draws an interval of no width: identical repeats are their own statement", () => {
    const j = judge([1000, 1000, 1000], [1980, 1980, 1980]);
    expect(j.verdict).toBe("no_spread");
    expect(j.interval).toBeUndefined();
    expect(verdictWords(j)).toBe("no spread measured: every repeat gave the same number, so no interval");
  });

  it("without repeats on both sides claims nothing", () => {
    const j = judgeEfficiency(0.99, spreadOf([1000, 1010, 990]), undefined, 0.05);
    expect(j.verdict).toBe("unmeasured");
    expect(verdictWords(j)).toBe("noise not measured (repeats: 1); run with repeats ≥ 3");
  });

  it("follows the tolerance it is given", () => {
    // E = 98% ± 2.2: inside a ±5% band (linear); holds 100% and reaches below 98% (inconclusive at ±2%).
    const base = [990, 1000, 1010];
    const two = [1950, 1960, 1970];
    const e = mean(two) / 2000;
    expect(judgeEfficiency(e, spreadOf(two), spreadOf(base), 0.05).verdict).toBe("linear");
    expect(judgeEfficiency(e, spreadOf(two), spreadOf(base), 0.02).verdict).toBe("inconclusive");
  });

  it("the analysis judges every point above N₀ and the summary groups levels by verdict", () => {
    const analysis = analyze([repeated(1, [990, 1000, 1010]), repeated(2, [1980, 2000, 2020])]);
    const point = analysis.scaling[0]!.rows[0]!.points[1]!;
    expect(point.judgement?.verdict).toBe("linear");
    expect(point.efficiencyCi95).toBeGreaterThan(0);
    expect(verdictLines(analysis.input.images[0]!, analysis.scaling[0]!)).toEqual([
      "rayoss (open-source Ray), E(2x): linear within ±5% at 4 (95% intervals from the repeats).",
    ]);
    const sub = analyze([repeated(1, [990, 1000, 1010]), repeated(2, [1580, 1600, 1620])]);
    const judgement = sub.scaling[0]!.rows[0]!.points[1]!.judgement!;
    const gap = ((1 - judgement.interval![1]) * 100).toFixed(0);
    expect(verdictLines(sub.input.images[0]!, sub.scaling[0]!)).toEqual([
      `rayoss (open-source Ray), E(2x): sub-linear at 4 (at least ${gap}% below linear) (95% intervals from the repeats).`,
    ]);
    const strict = analyze([repeated(1, [990, 1000, 1010]), repeated(2, [1980, 2000, 2020])], undefined, {
      tolerance: 0.01,
    });
    expect(strict.scaling[0]!.rows[0]!.points[1]!.judgement?.verdict).toBe("inconclusive");
  });

  it("gives goodput's E(N) an interval too when every repeat has a goodput", () => {
    const withGoodput = (scale: number, values: number[]) =>
      experiment("rayoss", scale, [
        level(4, {
          outputThroughput: mean(values),
          outputGoodput: mean(values) * 0.9,
          repeats: values.map((v) => ({
            outputThroughput: v,
            requestThroughput: v / 100,
            outputGoodput: v * 0.9,
          })),
        }),
      ]);
    const analysis = analyze([withGoodput(1, [990, 1000, 1010]), withGoodput(2, [1980, 2000, 2020])]);
    expect(analysis.goodputMetric).toBe("output_goodput");
    const point = analysis.goodput[0]!.rows[0]!.points[1]!;
    expect(point.efficiency).toBeCloseTo(1, 9);
    expect(point.judgement?.verdict).toBe("linear");
  });

  it("without repeats says noise was not measured, and claims no band", () => {
    const analysis = analyze([
      experiment("rayoss", 1, [level(4, { outputThroughput: 1000 })]),
      experiment("rayoss", 2, [level(4, { outputThroughput: 2100 })]),
    ]);
    expect(verdictLines(analysis.input.images[0]!, analysis.scaling[0]!)).toEqual([
      "rayoss (open-source Ray), E(2x): noise not measured (repeats: 1); run with repeats ≥ 3.",
    ]);
  });

  it("knows how uncertain a variance from a few repeats is (χ² bounds)", () => {
    // 4 degrees of freedom: χ²(0.975) = 11.143, χ²(0.025) = 0.4844.
    const [low, high] = varianceFactorRange95(4);
    expect(low).toBeCloseTo(4 / 11.143, 4);
    expect(high).toBeCloseTo(4 / 0.4844, 3);
    // Beyond the table, Wilson–Hilferty: χ²(0.975, 60) = 83.30, χ²(0.025, 60) = 40.48.
    const [low60, high60] = varianceFactorRange95(60);
    expect(60 / low60).toBeCloseTo(83.3, 0);
    expect(60 / high60).toBeCloseTo(40.48, 0);
  });

  it("says how many repeats bring the interval to ±5%: about 70 at a 15% spread", () => {
    const n = repeatsForHalfWidth(0.15 ** 2 * 2, 0.05, (k) => 2 * k - 2);
    expect(n).toBeGreaterThanOrEqual(68);
    expect(n).toBeLessThanOrEqual(72);
  });
});
