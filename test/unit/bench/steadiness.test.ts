import { describe, expect, it } from "vitest";
import { assessSteadiness, MIN_TOKENS_PER_SLICE, type Steadiness } from "../../../src/bench/steadiness.js";

const judged = (s: ReturnType<typeof assessSteadiness>): Steadiness => {
  if (s.verdict === "not_judged") throw new Error(`not judged: ${s.reason}`);
  return s;
};

describe("the steadiness test", () => {
  it("calls a 2.5× slowdown halfway through unsteady, with the slice rates", () => {
    const rates = [1000, 1000, 1000, 1000, 1000, 400, 400, 400, 400, 400];
    const s = judged(assessSteadiness(rates, 0.5));
    expect(s.verdict).toBe("unsteady");
    expect(s.halvesChange).toBeCloseTo(-600 / 700, 9);
    expect(s.sliceRates).toEqual(rates);
    expect(s.reasons.join(" ")).toMatch(/second half's rate is 86% below/);
  });

  it("catches a swing that does not change the halves", () => {
    const rates = [1000, 1000, 300, 300, 1000, 1000, 1000, 1000, 300, 300];
    const s = judged(assessSteadiness(rates, 0.5));
    expect(Math.abs(s.halvesChange)).toBeLessThan(0.2);
    expect(s.verdict).toBe("unsteady");
    expect(s.reasons.join(" ")).toMatch(/between fifths/);
  });

  it("calls a flat rate steady", () => {
    expect(assessSteadiness(new Array(10).fill(1000), 0.5).verdict).toBe("steady");
  });

  it("says why it did not judge: no slices, a window shorter than a request, or too few tokens", () => {
    expect(assessSteadiness([], 0)).toMatchObject({
      verdict: "not_judged",
      reason: /no steady-state window/,
    });
    expect(assessSteadiness([1000, 1000, 1000, 1000, 1000], 1).verdict).toBe("not_judged");
    // A window of 10 × 0.1 s against requests of 1.5 s.
    expect(assessSteadiness(new Array(10).fill(1000), 0.1, 1.5)).toMatchObject({
      verdict: "not_judged",
      reason: /shorter than the median request \(1\.50 s\)/,
    });
    // A window exactly one request long is judged.
    expect(assessSteadiness(new Array(10).fill(1000), 0.15, 1.5).verdict).toBe("steady");
    const thin = MIN_TOKENS_PER_SLICE / 0.1 - 1;
    expect(assessSteadiness(new Array(10).fill(thin), 0.1)).toMatchObject({
      verdict: "not_judged",
      reason: /fewer than 50/,
    });
    expect(assessSteadiness(new Array(10).fill(thin + 2), 0.1).verdict).toBe("steady");
  });
});
