import { describe, expect, it } from "vitest";
import { assessSteadiness, MIN_TOKENS_PER_SLICE } from "../../../src/bench/steadiness.js";

describe("the steadiness test", () => {
  it("calls a 2.5× slowdown halfway through unsteady, with the slice rates", () => {
    const rates = [1000, 1000, 1000, 1000, 1000, 400, 400, 400, 400, 400];
    const s = assessSteadiness(rates, 0.5)!;
    expect(s.verdict).toBe("unsteady");
    expect(s.halvesChange).toBeCloseTo(-600 / 700, 9);
    expect(s.sliceRates).toEqual(rates);
    expect(s.reasons.join(" ")).toMatch(/second half's rate is 86% below/);
  });

  it("lets closed-loop waves pass: neighbouring slices differ, halves and fifths do not", () => {
    // The shape the noise-free simulator gives at 64 in flight: a wave's prefill empties a slice.
    const rates = [2301, 4940, 2834, 4885, 4603, 3207, 4501, 3241, 4894, 4087];
    expect(assessSteadiness(rates, 0.4)?.verdict).toBe("steady");
  });

  it("judges the swing only when a fifth lasts at least a request: shorter fifths show the waves", () => {
    // Two waves of 1 s in the window: every wave's prefill empties a fifth.
    const rates = [300, 4400, 6700, 6700, 6600, 1000, 5000, 6700, 6700, 6500];
    const short = assessSteadiness(rates, 0.2, 1)!;
    expect(short.swingJudged).toBe(false);
    expect(short.verdict).toBe("steady");
    expect(assessSteadiness(rates, 0.5, 1)?.verdict).toBe("unsteady");
    // Halves shorter than a request: nothing to judge.
    expect(assessSteadiness(rates, 0.05, 1)).toBeUndefined();
  });

  it("catches a swing that does not change the halves", () => {
    const rates = [1000, 1000, 300, 300, 1000, 1000, 1000, 1000, 300, 300];
    const s = assessSteadiness(rates, 0.5)!;
    expect(Math.abs(s.halvesChange)).toBeLessThan(0.2);
    expect(s.verdict).toBe("unsteady");
    expect(s.reasons.join(" ")).toMatch(/between fifths/);
  });

  it("does not judge windows with too few tokens per slice, or without ten slices", () => {
    const thin = MIN_TOKENS_PER_SLICE / 0.1 - 1;
    expect(assessSteadiness(new Array(10).fill(thin), 0.1)).toBeUndefined();
    expect(assessSteadiness(new Array(10).fill(thin + 2), 0.1)?.verdict).toBe("steady");
    expect(assessSteadiness([], 0)).toBeUndefined();
    expect(assessSteadiness([1000, 1000, 1000, 1000, 1000], 1)).toBeUndefined();
  });
});
