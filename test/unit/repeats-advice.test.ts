import { describe, expect, it } from "vitest";
import { efficiencyHalfWidth, repeatsForHalfWidth } from "../../src/report/noise.js";
import { repeatsAdvice } from "../../src/report/repeats-advice.js";

/** What predict, the dry run and doctor say a plan's repeats buy, before anything is paid for. */
describe("the advice on repeats", () => {
  it("says a single sweep measures no noise, and what three would give", () => {
    const text = repeatsAdvice(1);
    expect(text).toContain(
      "Repeats: 1 (benchmark.repeats): the sweep runs once, so run-to-run noise is not measured",
    );
    // t(4) · √((0.05² + 0.05²) / 3) = 2.776 · 0.0408 = 11.3%
    expect(text).toContain(
      "With repeats: 3 every E(N) gets a 95% interval (±11% at a 5% spread, ±23% at a 10% spread)",
    );
    expect(text).toContain("for 3× the benchmark time");
  });

  it("gives the interval's width for the plan's repeats, and what ±5% would take", () => {
    expect(repeatsAdvice(5)).toContain("the whole sweep runs 5 times");
    // t(8) · √(0.005 / 5) = 2.306 · 0.0316 = 7.3%
    expect(repeatsAdvice(5)).toContain("±7.3% if runs spread by 5%, ±15% if runs spread by 10%");
    expect(repeatsAdvice(3)).toContain(
      `(±5% at a 5% spread takes ${repeatsForHalfWidth(0.05, 0.05)} repeats)`,
    );
    expect(repeatsForHalfWidth(0.05, 0.05)).toBe(9);
  });

  it("warns that two repeats are too few to trust", () => {
    expect(repeatsAdvice(2)).toContain("too few to trust the spread (3 or more)");
    expect(repeatsAdvice(3)).not.toContain("too few");
  });

  it("uses the width the report's own advice inverts", () => {
    const n = repeatsForHalfWidth(0.08, 0.12);
    expect(efficiencyHalfWidth(n, 0.08, 0.12)).toBeLessThanOrEqual(0.05);
    expect(efficiencyHalfWidth(n - 1, 0.08, 0.12)).toBeGreaterThan(0.05);
    expect(efficiencyHalfWidth(1, 0.05, 0.05)).toBe(Number.POSITIVE_INFINITY);
  });
});
