import { describe, expect, it } from "vitest";
import { assembleReportInput } from "../../src/report/input.js";
import { judgeEfficiency } from "../../src/report/noise.js";
import { efficiency, goodputMetric, scalingTable, speedup } from "../../src/report/scaling.js";
import { spreadOf, tQuantile95 } from "../../src/report/stats.js";
import { experiment, level } from "../fixtures/report-data.js";

describe("speed-up and efficiency", () => {
  it("follow S(N) = T(N)/T(N0) and E(N) = S(N)/(N/N0) on numbers worked out by hand", () => {
    // 1x 1000 tok/s, 2x 1900, 4x 3600: S = 1.9 and 3.6, E = 0.95 and 0.90.
    expect(speedup(1900, 1000)).toBeCloseTo(1.9, 12);
    expect(efficiency(1900, 2, 1000, 1)).toBeCloseTo(0.95, 12);
    expect(efficiency(3600, 4, 1000, 1)).toBeCloseTo(0.9, 12);
    // From a base of 2x: 1900 → 7000 at 8x is S = 3.6842, E = 3.6842 / 4 = 0.9211.
    expect(efficiency(7000, 8, 1900, 2)).toBeCloseTo(0.921053, 6);
    // Linear scaling is exactly 1.
    expect(efficiency(4000, 4, 1000, 1)).toBe(1);
  });

  it("builds the table per level against the smallest scale measured, leaving holes as holes", () => {
    const input = assembleReportInput([
      experiment("rayoss", 1, [level(4, { outputThroughput: 1000 }), level(8, { outputThroughput: 1800 })]),
      experiment("rayoss", 2, [level(4, { outputThroughput: 1900 }), level(8, { outputThroughput: 3600 })]),
      experiment("rayoss", 4, [level(4, { outputThroughput: 3600 })]),
    ]);
    const table = scalingTable(input.images[0]!, "output_throughput", 0.05);
    expect(table.baseScale).toBe(1);
    expect(table.scales).toEqual([1, 2, 4]);
    const [conc4, conc8] = table.rows;
    expect(conc4?.points.map((p) => p.efficiency)).toEqual([1, 0.95, 0.9]);
    expect(conc4?.points.map((p) => p.perReplica)).toEqual([1000, 950, 900]);
    expect(conc8?.points[1]?.speedup).toBe(2);
    // 4x never ran conc8: no throughput, no speed-up, no efficiency (not zeros).
    expect(conc8?.points[2]).toEqual({ scale: 4 });
  });

  it("takes N0 from the smallest scale measured when 1x is missing", () => {
    const input = assembleReportInput([
      experiment("rayoss", 2, [level(4, { outputThroughput: 1900 })]),
      experiment("rayoss", 8, [level(4, { outputThroughput: 7000 })]),
    ]);
    const table = scalingTable(input.images[0]!, "output_throughput", 0.05);
    expect(table.baseScale).toBe(2);
    expect(table.rows[0]?.points[1]?.speedup).toBeCloseTo(3.684211, 6);
    expect(table.rows[0]?.points[1]?.efficiency).toBeCloseTo(0.921053, 6);
  });

  it("gives the spread of repeated levels and a confidence interval for E when both scales were repeated", () => {
    const repeats = (values: number[]) =>
      values.map((v) => ({ outputThroughput: v, requestThroughput: v / 100 }));
    const input = assembleReportInput([
      experiment("rayoss", 1, [level(4, { outputThroughput: 1000, repeats: repeats([1000, 1100, 900]) })]),
      experiment("rayoss", 2, [level(4, { outputThroughput: 1900, repeats: repeats([1900, 2000, 1800]) })]),
    ]);
    const [base, two] = scalingTable(input.images[0]!, "output_throughput", 0.05).rows[0]!.points;
    // mean 1000, sample std 100, 95% CI half-width t(2) × 100 / √3 = 4.303 × 57.735 = 248.43
    expect(base?.spread).toMatchObject({ n: 3, mean: 1000, min: 900, max: 1100 });
    expect(base?.spread?.std).toBeCloseTo(100, 9);
    expect(base?.spread?.ci95).toBeCloseTo(248.434, 2);
    // Relative variances (100/1900)²/3 and (100/1000)²/3; Welch df = 3.03 → t(3) = 3.182;
    // relative half-width 3.182 × √(0.000923 + 0.003333) = 0.20760; × E (0.95) = 0.19722.
    expect(two?.efficiency).toBeCloseTo(0.95, 12);
    expect(two?.efficiencyCi95).toBeCloseTo(0.19722, 4);
    expect(base?.efficiencyCi95).toBeUndefined();
  });

  it("gives no interval when only one side was repeated: an unrepeated run's variance is unknown, not zero", () => {
    const spread = spreadOf([10, 11, 12]);
    expect(judgeEfficiency(1, spread, undefined, 0.05)).toEqual({ verdict: "unmeasured", tolerance: 0.05 });
    expect(spreadOf([10])).toBeUndefined();
    expect(tQuantile95(1)).toBe(12.706);
    expect(tQuantile95(2.9)).toBe(4.303);
  });

  it("merges the same image and scale run twice into repeats with their mean", () => {
    const input = assembleReportInput([
      experiment("rayoss", 1, [level(4, { outputThroughput: 1000 })], {
        dir: "/a/rayoss-x1",
        name: "rayoss-x1",
      }),
      experiment("rayoss", 1, [level(4, { outputThroughput: 1200 })], {
        dir: "/b/rayoss-x1",
        name: "rayoss-x1",
      }),
    ]);
    const merged = input.images[0]!.cells.get(1)!.get("conc4")!;
    expect(merged.outputThroughput).toBe(1100);
    expect(merged.repeats?.map((r) => r.outputThroughput)).toEqual([1000, 1200]);
    expect(merged.numPrompts).toBe(80);
  });

  it("averages goodput over the runs as it averages throughput, and drops it when a run lacks it", () => {
    const run = (dir: string, values: Parameters<typeof level>[1]) =>
      experiment("rayoss", 1, [level(4, values)], { dir: `${dir}/rayoss-x1`, name: "rayoss-x1" });
    const both = assembleReportInput([
      run("/a", { outputThroughput: 1000, outputGoodput: 900, requestGoodput: 3 }),
      run("/b", { outputThroughput: 1200, outputGoodput: 1100, requestGoodput: 5 }),
    ])
      .images[0]!.cells.get(1)!
      .get("conc4")!;
    expect(both).toMatchObject({ outputThroughput: 1100, outputGoodput: 1000, requestGoodput: 4 });
    expect(both.repeats?.map((r) => r.outputGoodput)).toEqual([900, 1100]);
    const partial = assembleReportInput([
      run("/a", { outputThroughput: 1000, outputGoodput: 900 }),
      run("/b", { outputThroughput: 1200 }),
    ])
      .images[0]!.cells.get(1)!
      .get("conc4")!;
    expect(partial.outputGoodput).toBeNull();
  });

  it("computes the same under SLOs when the data has goodput", () => {
    const input = assembleReportInput([
      experiment("rayoss", 1, [level(4, { outputGoodput: 800 })]),
      experiment("rayoss", 2, [level(4, { outputGoodput: 1200 })]),
    ]);
    expect(goodputMetric(input.images)).toBe("output_goodput");
    const table = scalingTable(input.images[0]!, "output_goodput", 0.05);
    // 1200 / (2 × 800) = 0.75
    expect(table.rows[0]?.points[1]?.efficiency).toBeCloseTo(0.75, 12);
    expect(goodputMetric(assembleReportInput([experiment("rayoss", 1, [level(4)])]).images)).toBeUndefined();
  });
});
