import { describe, expect, it } from "vitest";
import { analyze } from "../../src/report/analysis.js";
import { efficiencyVerdict, noiseLines, repeatsForHalfWidth } from "../../src/report/noise.js";
import { summaryLines } from "../../src/report/summary.js";
import { experiment, level } from "../fixtures/report-data.js";

const reps = (values: number[]) => values.map((v) => ({ outputThroughput: v, requestThroughput: v / 100 }));
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const repeated = (scale: number, values: number[]) =>
  experiment("rayoss", scale, [level(4, { outputThroughput: mean(values), repeats: reps(values) })]);

describe("E(N) and the noise behind it", () => {
  it("words each E(N) by its interval: linear only when it holds 100%", () => {
    expect(efficiencyVerdict({ scale: 2, efficiency: 0.97, efficiencyCi95: 0.05 })).toBe(
      "consistent_with_linear",
    );
    expect(efficiencyVerdict({ scale: 2, efficiency: 0.9, efficiencyCi95: 0.05 })).toBe("sub_linear");
    expect(efficiencyVerdict({ scale: 2, efficiency: 1.2, efficiencyCi95: 0.05 })).toBe(
      "superlinear_suspect",
    );
    expect(efficiencyVerdict({ scale: 2, efficiency: 0.97 })).toBe("unmeasured");
  });

  it("says how many repeats would bring the interval to ±5%: about 70 at a 15% spread", () => {
    const n = repeatsForHalfWidth(0.15, 0.15);
    expect(n).toBeGreaterThanOrEqual(68);
    expect(n).toBeLessThanOrEqual(72);
    // The answer reaches ±5% and one fewer does not (t with 2n − 2 > 120 degrees of freedom is 1.96).
    const halfWidth = (k: number) => 1.96 * Math.sqrt((0.15 ** 2 * 2) / k);
    expect(halfWidth(n)).toBeLessThanOrEqual(0.05);
    expect(halfWidth(n - 1)).toBeGreaterThan(0.05);
    expect(repeatsForHalfWidth(0.01, 0.01)).toBe(3);
    expect(repeatsForHalfWidth(0, 0)).toBe(3);
  });

  it("states the verdicts and what would be enough, from the measured spread", () => {
    const analysis = analyze([repeated(1, [800, 1000, 1200]), repeated(2, [1600, 2000, 2400])]);
    const lines = noiseLines(analysis.input.images[0]!, analysis.scaling[0]!);
    expect(lines[0]).toBe(
      "rayoss (open-source Ray), E(2x): consistent with linear at 4 (95% intervals from the repeats).",
    );
    // 20% spread on both sides: 1.96 · √(0.08 / n) ≤ 0.05 needs n = 123.
    expect(lines[1]).toBe(
      "What would be enough for rayoss (open-source Ray), E(2x): at the between-repeat spread measured here (20% coefficient of variation), " +
        "an interval of ±5% takes this many repeats per scale: 123 at 4; 3 were run.",
    );
    expect(summaryLines(analysis)).toEqual(expect.arrayContaining(lines));
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
    expect(point.efficiencyCi95).toBeGreaterThan(0);
    expect(efficiencyVerdict(point)).toBe("consistent_with_linear");
  });

  it("without repeats says noise was not measured, and claims no band", () => {
    const analysis = analyze([
      experiment("rayoss", 1, [level(4, { outputThroughput: 1000 })]),
      experiment("rayoss", 2, [level(4, { outputThroughput: 2100 })]),
    ]);
    const lines = summaryLines(analysis);
    expect(lines).toContain(
      "rayoss (open-source Ray), E(2x): noise not measured (repeats: 1); run with repeats ≥ 3.",
    );
    for (const line of lines) expect(line).not.toMatch(/±\d/);
  });
});
