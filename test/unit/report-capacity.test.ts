import { describe, expect, it } from "vitest";
import {
  capacityCriterion,
  capacityTable,
  describeCriterion,
  findCapacity,
  type LoadPoint,
  replicasNeeded,
} from "../../src/report/capacity.js";
import { capacityVerdictView } from "../../src/report/capacity-view.js";
import { assembleReportInput } from "../../src/report/input.js";
import { experiment, level as levelSummary } from "../fixtures/report-data.js";

const level = (value: number) => ({ mode: "concurrency" as const, value, key: `conc${value}` });
const point = (value: number, load: number, excess: number): LoadPoint => ({
  level: level(value),
  load,
  excess,
});

describe("capacity between levels", () => {
  it("interpolates where the straight line through the bracketing levels crosses the limit", () => {
    // 10 req/s at 20% under, 30 req/s at 20% over: the crossing is half way, 20 req/s.
    const estimate = findCapacity([
      point(4, 5, -0.5),
      point(8, 10, -0.2),
      point(16, 30, 0.2),
      point(32, 35, 1),
    ]);
    expect(estimate.kind).toBe("between");
    if (estimate.kind !== "between") return;
    expect(estimate.value).toBeCloseTo(20, 10);
    expect(estimate.lower.level.key).toBe("conc8");
    expect(estimate.upper.level.key).toBe("conc16");
  });

  it("takes the first crossing in the plan's level order, even if a later level meets again", () => {
    const estimate = findCapacity([point(4, 10, -0.1), point(8, 20, 0.1), point(16, 25, -0.05)]);
    expect(estimate.kind === "between" && estimate.value).toBeCloseTo(15, 10);
  });

  it("says above the highest or below the lowest level, not a number, when nothing brackets it", () => {
    expect(findCapacity([point(4, 10, -0.3), point(8, 20, 0)])).toMatchObject({
      kind: "above_highest",
      highest: { load: 20 },
    });
    expect(findCapacity([point(4, 10, 0.01), point(8, 20, 0.5)])).toMatchObject({
      kind: "below_lowest",
      lowest: { load: 10 },
    });
    expect(findCapacity([])).toEqual({ kind: "unmeasured" });
  });
});

describe("the capacity criterion from the plan's SLO", () => {
  it("is a percentile of every limited latency, or a goodput fraction, or none", () => {
    const p99 = capacityCriterion({ ttftMs: 500, tpotMs: 40, percentile: 99 })!;
    expect(describeCriterion(p99)).toBe("p99 TTFT ≤ 500 ms, p99 TPOT ≤ 40 ms");
    const share = capacityCriterion({ ttftMs: 500, goodputFraction: 0.95 })!;
    expect(describeCriterion(share)).toBe("≥ 95% of requests within every limit");
    expect(capacityCriterion({ ttftMs: 500 })).toBeUndefined();
  });
});

describe("replicas needed for a target rate", () => {
  it("rounds up from the largest scale's capacity per replica, with the range its interval gives", () => {
    const needed = replicasNeeded(
      {
        image: "svc",
        criterion: { kind: "goodput_fraction", fraction: 0.95 },
        baseScale: 1,
        scales: [
          { scale: 1, points: [], estimate: { kind: "unmeasured" }, repeats: spread(5, 0.5) },
          { scale: 4, points: [], estimate: { kind: "unmeasured" }, repeats: spread(4, 1) },
        ],
      },
      41,
    )!;
    // 41 / 4 = 10.25 → 11; the interval 3–5 req/s per replica → 9 to 14.
    expect(needed).toEqual({ image: "svc", targetRate: 41, fromScale: 4, replicas: 11, range: [9, 14] });
  });
});

function spread(mean: number, ci95: number) {
  return { n: 3, mean, std: ci95, min: mean - ci95, max: mean + ci95, ci95 };
}

describe("capacity per scale from the levels and their repeats", () => {
  const criterion = { kind: "goodput_fraction", fraction: 0.9 } as const;
  /** A level at `load` req/s per replica whose repeats had these good shares and loads. */
  const measured = (c: number, scale: number, runs: Array<[load: number, good: number]>) => {
    const mean = (i: 0 | 1) => runs.reduce((a, r) => a + r[i], 0) / runs.length;
    return levelSummary(c, {
      requestThroughput: mean(0) * scale,
      requestGoodput: mean(0) * mean(1) * scale,
      repeats: runs.map(([load, good]) => ({
        outputThroughput: load * scale * 100,
        requestThroughput: load * scale,
        requestGoodput: load * good * scale,
      })),
    });
  };
  /** Three repeats that measured the same load and good share. */
  const thrice = (load: number, good: number): Array<[number, number]> => [
    [load, good],
    [load, good],
    [load, good],
  ];
  const tableOf = (experiments: ReturnType<typeof experiment>[]) =>
    capacityTable(assembleReportInput(experiments).images[0]!, criterion, 0.05);

  it("finds capacity in each repeat, gives their Student-t interval, and judges capacity efficiency like E(N)", () => {
    // Per repeat the good share falls from 1 to 0.8 between 10 and 20 req/s per replica: it crosses
    // 0.9 half way, at 15; at 2x each repeat is a little off, at 14.5, 15 and 15.5.
    const one = experiment("svc", 1, [measured(4, 1, thrice(10, 1)), measured(8, 1, thrice(20, 0.8))]);
    const two = experiment("svc", 2, [
      measured(4, 2, [
        [9, 1],
        [10, 1],
        [11, 1],
      ]),
      measured(8, 2, thrice(20, 0.8)),
    ]);
    const table = tableOf([one, two]);
    const [base, scaled] = table.scales;
    expect(base!.repeats).toMatchObject({ n: 3, mean: 15, std: 0 });
    expect(scaled!.repeats!.mean).toBeCloseTo(15, 10);
    expect(scaled!.repeats!.std).toBeCloseTo(0.5, 10);
    expect(scaled!.efficiency).toBeCloseTo(1, 10);
    // The base did not vary at all; the interval then comes from 2x alone.
    expect(scaled!.judgement?.verdict).toBe("inconclusive");
    expect(scaled!.judgement!.interval![0]).toBeLessThan(0.95);
  });

  it("says why there is no interval when a repeat does not bracket the capacity", () => {
    const table = tableOf([
      experiment("svc", 1, [
        measured(4, 1, thrice(10, 1)),
        measured(8, 1, [
          [20, 0.8],
          [20, 0.95],
          [20, 0.8],
        ]),
      ]),
    ]);
    const [s] = table.scales;
    // The means bracket it (share 0.85 at 20 req/s), the second repeat does not.
    expect(s!.estimate.kind).toBe("between");
    expect(s!.repeats).toBeUndefined();
    expect(s!.noInterval).toBe("no interval: in repeat 2 capacity is above the highest level measured");
  });

  it("the first screen still says where each scale's capacity lies when no scale brackets it", () => {
    // Every level meets the SLO at both scales (a replay too slow to reach it): no N₀, no efficiency.
    const table = tableOf([
      experiment("svc", 1, [measured(4, 1, thrice(10, 1)), measured(8, 1, thrice(20, 1))]),
      experiment("svc", 2, [measured(4, 2, thrice(10, 1)), measured(8, 2, thrice(20, 1))]),
    ]);
    expect(table.baseScale).toBeUndefined();
    const view = capacityVerdictView([table], 0.05);
    expect(view.rows.map((r) => [r[1]!.text, r[2]!.text, r[6]!.text])).toEqual([
      [
        "1x",
        "above 20.0 req/s (the highest level measured)",
        "no scale bracketed: measure levels on both sides of the SLO",
      ],
      [
        "2x",
        "above 20.0 req/s (the highest level measured)",
        "no scale bracketed: measure levels on both sides of the SLO",
      ],
    ]);
  });
});
