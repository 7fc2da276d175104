import { describe, expect, it } from "vitest";
import { exactMean } from "../../src/model/exact-mean.js";

describe("exactMean", () => {
  it("is exact where naive summation is not", () => {
    // 0.1 + 0.2 + 0.3 = 0.6000000000000001 in floating point; the exact mean of the three doubles
    // rounds to 0.2, as Python's statistics.mean([0.1, 0.2, 0.3]) gives.
    expect((0.1 + 0.2 + 0.3) / 3).not.toBe(0.2);
    expect(exactMean([0.1, 0.2, 0.3])).toBe(0.2);
  });

  it("handles cancellation that naive summation loses entirely", () => {
    expect(exactMean([1e308, 1, -1e308])).toBe(1 / 3);
  });

  it("agrees with simple cases", () => {
    expect(exactMean([2])).toBe(2);
    expect(exactMean([1, 2, 3, 4])).toBe(2.5);
    expect(exactMean([-1, -2])).toBe(-1.5);
    expect(exactMean([0, 0])).toBe(0);
    expect(exactMean([5e-324, 5e-324])).toBe(5e-324);
  });

  it("matches values Python computed for the seed data", () => {
    // statistics.mean of two durations, as Python 3.11 prints it.
    expect(exactMean([26.133183615049347, 25.000439856946468])).toBe(25.56681173599791);
  });

  it("rejects an empty list", () => {
    expect(() => exactMean([])).toThrow(RangeError);
  });
});
