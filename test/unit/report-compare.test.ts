import { describe, expect, it } from "vitest";
import type { LevelSummary } from "../../src/model/types.js";
import { compareRuntimes } from "../../src/report/compare.js";
import { assembleReportInput } from "../../src/report/input.js";
import { tQuantile95 } from "../../src/report/stats.js";
import { experiment, level } from "../fixtures/report-data.js";

const TOLERANCE = 0.05;

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
  const [comparison] = compareRuntimes(input.images, [], TOLERANCE);
  if (!comparison) throw new Error("no comparison");
  return comparison;
}

const reps = (values: number[], latency?: (v: number) => number) =>
  values.map((v) => ({
    outputThroughput: v,
    requestThroughput: v / 100,
    ...(latency ? { ttftP99Ms: latency(v), tpotP50Ms: latency(v) / 10 } : {}),
  }));
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** One level (conc4) per image at 1x, repeated: OSS and Turbo throughputs per repeat. */
function repeated(oss: number[], turbo: number[]) {
  const input = assembleReportInput([
    experiment("rayoss", 1, [level(4, { outputThroughput: mean(oss), repeats: reps(oss) })]),
    experiment("rayturbo", 1, [level(4, { outputThroughput: mean(turbo), repeats: reps(turbo) })]),
  ]);
  return compareRuntimes(input.images, [], TOLERANCE)[0]!;
}

describe("OSS vs Turbo", () => {
  it("without repeats gives the differences and says that their noise was not measured, never an interval", () => {
    const c = compare({ 1: [1000, 2000], 4: [4000, 8000] }, { 1: [1010, 2000], 4: [4160, 8320] });
    expect(c.verdicts.map((v) => v.kind)).toEqual(["noise_unmeasured", "noise_unmeasured"]);
    expect(c.headline).toBe(
      "Turbo ±0% throughput at 1x, Turbo +4% throughput at 4x (noise not measured (repeats: 1); run with repeats ≥ 3).",
    );
    const four = c.verdicts[1]!;
    expect(four.throughput?.ratio).toBeCloseTo(1.04, 12);
    expect(four.throughput?.interval).toBeUndefined();
    expect(four.text).toBe(
      "4x: Turbo +4.0% output throughput (geometric mean over 2 levels; levels +4.0% to +4.0%); noise not measured (repeats: 1); run with repeats ≥ 3, so this cannot tell a difference from run-to-run variation. Latency Turbo vs OSS: TTFT p99 ±0.0%, TPOT p50 ±0.0%.",
    );
  });

  it("gives the ratio of throughput and latency at every scale and level", () => {
    const ttft = { mean: 100, median: 90, std: 10, p50: 81, p99: 180 };
    const c = compare({ 1: [1000, 2000] }, { 1: [950, 2100] }, { latency: { ttft } });
    expect(c.cells.map((cell) => cell.throughput?.ratio)).toEqual([0.95, 1.05]);
    expect(c.cells[0]?.latency.ttft_p50?.ratio).toBeCloseTo(0.9, 12);
    expect(c.cells[0]?.latency.ttft_p99?.ratio).toBeCloseTo(0.9, 12);
    // −5% at conc4 and +5% at conc8, but without repeats nobody knows whether that is noise.
    expect(c.verdicts[0]?.kind).toBe("noise_unmeasured");
  });

  it("calls a difference whose interval holds no change and reaches beyond ±5% inconclusive, with the repeats that would settle it", () => {
    const c = repeated([980, 1000, 1020], [1000, 1050, 1100]);
    const v = c.verdicts[0]!;
    // log-ratio variance (50/1050)²/3 + (20/1000)²/3 = 0.000889, Welch df 2.7 → t(2) = 4.303:
    // exp(ln 1.05 ± 0.1283) = 0.924 … 1.194, which holds 1 and reaches beyond 0.95 and 1.05.
    expect(v.throughput?.interval?.[0]).toBeCloseTo(0.9237, 3);
    expect(v.throughput?.interval?.[1]).toBeCloseTo(1.1936, 3);
    expect(v.kind).toBe("inconclusive");
    // To clear 1 the half-width must fall below ln 1.05 = 0.0488: with cv² summing to 0.00267 per
    // repeat, t(2n − 2) · √(0.00267 / n) ≤ 0.0488 first holds at n = 6.
    const half = (n: number) => tQuantile95(2 * n - 2) * Math.sqrt(0.0026667 / n);
    expect(half(6)).toBeLessThan(Math.log(1.05));
    expect(half(5)).toBeGreaterThan(Math.log(1.05));
    expect(v.settle?.repeats).toBe(6);
    expect(v.settle!.low).toBeLessThanOrEqual(6);
    expect(v.settle!.high).toBeGreaterThan(6);
    expect(v.text).toContain("inconclusive: Turbo +5.0% output throughput (95% interval −7.6% to +19.4%");
    expect(v.text).toContain("repeats per image would settle it at the spread measured");
    expect(c.headline).toBe("Inconclusive at 1x (95% intervals from repeats).");
  });

  it("calls an interval inside ±5% the same, and one wholly above 1 higher by at least its low end", () => {
    const same = repeated([990, 1000, 1010], [1000, 1010, 1020]);
    expect(same.verdicts[0]?.kind).toBe("equivalent");
    expect(same.verdicts[0]?.text).toMatch(/^1x: the same within ±5%: Turbo \+1\.0% output throughput/);
    expect(same.headline).toBe("The same within ±5% at 1x (95% intervals from repeats).");

    const higher = repeated([990, 1000, 1010], [1190, 1200, 1210]);
    const v = higher.verdicts[0]!;
    expect(v.kind).toBe("turbo_higher");
    expect(v.throughput!.interval![0]).toBeGreaterThan(1.15);
    expect(v.text).toMatch(/^1x: Turbo higher, by at least \+1[5-9]\.\d%: Turbo \+20\.0% output throughput/);
  });

  it("judges a scale by the interval of its geometric mean, not by one level's band", () => {
    // Seven levels, each ±10% noisy on both sides, Turbo 15% higher at every level: one level's
    // interval is wide, but the mean over seven has √7 less variance and clears 1.
    const spread = [0.88, 1, 1.12];
    const levels = [4, 8, 16, 32, 64, 128, 256];
    const input = assembleReportInput([
      experiment(
        "rayoss",
        1,
        levels.map((c, i) => {
          const values = spread.map((f) => 1000 * c * f * (1 + 0.01 * i));
          return level(c, { outputThroughput: mean(values), repeats: reps(values) });
        }),
      ),
      experiment(
        "rayturbo",
        1,
        levels.map((c, i) => {
          const values = spread.map((_, k) => 1150 * c * spread[(k + i) % 3]!);
          return level(c, { outputThroughput: mean(values), repeats: reps(values) });
        }),
      ),
    ]);
    const [c] = compareRuntimes(input.images, [], TOLERANCE);
    const v = c!.verdicts[0]!;
    expect(c!.cells.every((cell) => cell.throughput?.verdict === "inconclusive")).toBe(true);
    expect(v.kind).toBe("turbo_higher");
    expect(v.throughput!.interval![0]).toBeGreaterThan(1);
  });

  it("gives latency ratios intervals from the repeats' percentiles", () => {
    const oss = [990, 1000, 1010];
    const turbo = [1000, 1010, 1020];
    const ttft = { mean: 100, median: 90, std: 10, p50: 90, p99: 200 };
    const input = assembleReportInput([
      experiment("rayoss", 1, [
        level(4, { outputThroughput: mean(oss), repeats: reps(oss, (v) => v / 5), latency: { ttft } }),
      ]),
      experiment("rayturbo", 1, [
        level(4, { outputThroughput: mean(turbo), repeats: reps(turbo, (v) => v / 5), latency: { ttft } }),
      ]),
    ]);
    const v = compareRuntimes(input.images, [], TOLERANCE)[0]!.verdicts[0]!;
    expect(v.latency.ttft_p99?.interval).toBeDefined();
    expect(v.latency.ttft_p99!.interval![0]).toBeLessThan(1);
    expect(v.latency.ttft_p99!.interval![1]).toBeGreaterThan(1);
    expect(v.text).toMatch(/Latency Turbo vs OSS: TTFT p99 ±0\.0% \(−\d\.\d% to \+\d\.\d%\)/);
  });

  it("calls levels clearly on both sides of 1 mixed", () => {
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
    const [c] = compareRuntimes(input.images, [], TOLERANCE);
    expect(c!.verdicts[0]?.kind).toBe("mixed");
    expect(c!.verdicts[0]?.text).toContain("mixed: Turbo clearly higher at 8, clearly lower at 4");
    expect(c!.headline).toBe("Mixed at 1x (95% intervals from repeats).");
  });

  it("says that identical repeats measured no spread instead of drawing an interval of no width", () => {
    const c = repeated([1000, 1000, 1000], [1020, 1020, 1020]);
    expect(c.verdicts[0]?.kind).toBe("no_spread");
    expect(c.verdicts[0]?.throughput?.interval).toBeUndefined();
    expect(c.verdicts[0]?.text).toContain("no spread measured");
  });

  it("says which side is missing instead of comparing against nothing", () => {
    const c = compare({ 1: [1000, 2000], 2: [2000, 4000] }, { 1: [1000, 2000] });
    expect(c.verdicts[1]).toMatchObject({ kind: "no_data", text: "2x: no comparison (Turbo not measured)." });
    expect(c.cells.filter((cell) => cell.scale === 2).every((cell) => cell.throughput === undefined)).toBe(
      true,
    );
    expect(c.headline).toBe(
      "Turbo ±0% throughput at 1x, not compared at 2x (noise not measured (repeats: 1); run with repeats ≥ 3).",
    );
  });
});
