import { describe, expect, it } from "vitest";
import type { LevelSummary } from "../../src/model/types.js";
import { compareRuntimes } from "../../src/report/compare.js";
import { assembleReportInput } from "../../src/report/input.js";
import { experiment, level } from "../fixtures/report-data.js";

function compare(
  oss: Record<number, number[]>,
  turbo: Record<number, number[]>,
  tweak?: Partial<LevelSummary>,
) {
  const cells = (image: string, table: Record<number, number[]>, extra?: Partial<LevelSummary>) =>
    Object.entries(table).map(([scale, [c4, c8]]) =>
      experiment(image, Number(scale), [
        level(4, { outputThroughput: c4 as number, ...extra }),
        level(8, { outputThroughput: c8 as number, ...extra }),
      ]),
    );
  const input = assembleReportInput([...cells("rayoss", oss), ...cells("rayturbo", turbo, tweak)]);
  const [comparison] = compareRuntimes(input.images, []);
  if (!comparison) throw new Error("no comparison");
  return comparison;
}

describe("OSS vs Turbo", () => {
  it("without repeats gives the differences and says that their noise was not measured, never a band", () => {
    const c = compare({ 1: [1000, 2000], 4: [4000, 8000] }, { 1: [1010, 2000], 4: [4160, 8320] });
    expect(c.verdicts.map((v) => v.kind)).toEqual(["noise_unmeasured", "noise_unmeasured"]);
    expect(c.headline).toBe(
      "Turbo ±0% throughput at 1x, Turbo +4% throughput at 4x (noise not measured (repeats: 1); run with repeats ≥ 3).",
    );
    const four = c.verdicts[1]!;
    expect(four.meanRatio).toBeCloseTo(1.04, 12);
    expect(four.noise).toBeUndefined();
    expect(four.noiseSource).toBe("unmeasured");
    expect(four.text).toBe(
      "4x: Turbo +4.0% output throughput (geometric mean over 2 levels, +4.0% to +4.0%); noise not measured (repeats: 1); run with repeats ≥ 3, so this cannot tell a difference from run-to-run variation. Latency Turbo vs OSS: TTFT p99 ±0.0%, TPOT p50 ±0.0%.",
    );
    for (const text of [c.headline, ...c.verdicts.map((v) => v.text)]) expect(text).not.toMatch(/±3%/);
  });

  it("gives the ratio of throughput and latency at every scale and level", () => {
    const ttft = { mean: 100, median: 90, std: 10, p50: 81, p99: 180 };
    const c = compare({ 1: [1000, 2000] }, { 1: [950, 2100] }, { latency: { ttft } });
    expect(c.cells.map((cell) => cell.throughputRatio)).toEqual([0.95, 1.05]);
    expect(c.cells[0]?.latencyRatios.ttft_p50).toBeCloseTo(0.9, 12);
    expect(c.cells[0]?.latencyRatios.ttft_p99).toBeCloseTo(0.9, 12);
    // −5% at conc4 and +5% at conc8, but without repeats nobody knows whether that is noise.
    expect(c.verdicts[0]?.kind).toBe("noise_unmeasured");
  });

  it("calls levels on both sides of a measured band mixed", () => {
    const reps = (values: number[]) =>
      values.map((v) => ({ outputThroughput: v, requestThroughput: v / 100 }));
    const input = assembleReportInput([
      experiment("rayoss", 1, [
        level(4, { outputThroughput: 1000, repeats: reps([999, 1000, 1001]) }),
        level(8, { outputThroughput: 2000, repeats: reps([1999, 2000, 2001]) }),
      ]),
      experiment("rayturbo", 1, [
        level(4, { outputThroughput: 950, repeats: reps([949, 950, 951]) }),
        level(8, { outputThroughput: 2100, repeats: reps([2099, 2100, 2101]) }),
      ]),
    ]);
    const [c] = compareRuntimes(input.images, []);
    expect(c!.verdicts[0]?.kind).toBe("mixed");
    expect(c!.verdicts[0]?.text).toContain("mixed: Turbo higher at conc8, lower at conc4");
    expect(c!.headline).toBe("Mixed at 1x (noise: 95% confidence from repeats).");
  });

  it("takes the noise from repeats when every compared level was repeated on both sides", () => {
    const reps = (values: number[]) =>
      values.map((v) => ({ outputThroughput: v, requestThroughput: v / 100 }));
    const input = assembleReportInput([
      experiment("rayoss", 1, [level(4, { outputThroughput: 1000, repeats: reps([980, 1000, 1020]) })]),
      experiment("rayturbo", 1, [level(4, { outputThroughput: 1050, repeats: reps([1000, 1050, 1100]) })]),
    ]);
    const [c] = compareRuntimes(input.images, []);
    const v = c!.verdicts[0]!;
    expect(v.noiseSource).toBe("repeats");
    // Relative variances (50/1050)²/3 = 0.000756 and (20/1000)²/3 = 0.000133; Welch df = 2.6 → t(2) = 4.303;
    // 4.303 × √0.000889 = 0.1283: +5% is inside that band.
    expect(v.noise).toBeCloseTo(0.1283, 3);
    expect(v.kind).toBe("within_noise");
    expect(c!.headline).toBe("Within noise at 1x (noise: 95% confidence from repeats).");
  });

  it("says which side is missing instead of comparing against nothing", () => {
    const c = compare({ 1: [1000, 2000], 2: [2000, 4000] }, { 1: [1000, 2000] });
    expect(c.verdicts[1]).toMatchObject({ kind: "no_data", text: "2x: no comparison (Turbo not measured)." });
    expect(
      c.cells.filter((cell) => cell.scale === 2).every((cell) => cell.throughputRatio === undefined),
    ).toBe(true);
    expect(c.headline).toBe(
      "Turbo ±0% throughput at 1x, not compared at 2x (noise not measured (repeats: 1); run with repeats ≥ 3).",
    );
  });
});
