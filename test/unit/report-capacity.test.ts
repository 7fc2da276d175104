import { describe, expect, it } from "vitest";
import {
  capacityCriterion,
  describeCriterion,
  findCapacity,
  type LoadPoint,
  replicasNeeded,
} from "../../src/report/capacity.js";

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
