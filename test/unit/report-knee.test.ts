import { describe, expect, it } from "vitest";
import { kneeIndex } from "../../src/report/knee.js";

describe("the knee of a latency-vs-load curve (Kneedle on the measured points)", () => {
  it("is the point furthest below the chord of a curve that bends upwards", () => {
    // Flat until 30 req/s, then steep: the bend is at the fourth point.
    const points = [10, 20, 30, 40, 45, 48].map((x, i) => ({ x, y: [50, 52, 55, 60, 200, 900][i]! }));
    expect(kneeIndex(points)).toBe(3);
  });

  it("is absent from a straight line, a curve bending the other way, or too few points", () => {
    expect(kneeIndex([1, 2, 3, 4].map((x) => ({ x, y: 2 * x })))).toBeUndefined();
    expect(kneeIndex([1, 2, 3, 4].map((x) => ({ x, y: Math.sqrt(x) })))).toBeUndefined();
    expect(
      kneeIndex([
        { x: 1, y: 1 },
        { x: 2, y: 9 },
      ]),
    ).toBeUndefined();
  });
});
