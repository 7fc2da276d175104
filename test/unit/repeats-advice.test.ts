import { describe, expect, it } from "vitest";
import { repeatsAdvice as adviceOn } from "../../src/report/repeats-advice.js";
import { repeatsForHalfWidth } from "../../src/report/verdict.js";

const repeatsAdvice = (repeats: number) => adviceOn({ repeats } as Parameters<typeof adviceOn>[0]);
/** E's per-repeat relative variance when both scales spread by cv: cv² + cv². */
const forHalfWidth = (cvN: number, cvBase: number, target = 0.05) =>
  repeatsForHalfWidth(cvN ** 2 + cvBase ** 2, target, (n) => 2 * n - 2);

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
    // the smallest n with t(2n − 2) · √(0.005 / n) ≤ 5%: t(16) · √(0.005 / 9) = 2.120 · 0.0236 = 5.0%
    expect(repeatsAdvice(3)).toContain("(±5% at a 5% spread takes 9 repeats)");
    expect(forHalfWidth(0.05, 0.05)).toBe(9);
  });

  it("warns that two repeats are too few to trust", () => {
    expect(repeatsAdvice(2)).toContain("too few to trust the spread (3 or more)");
    expect(repeatsAdvice(3)).not.toContain("too few");
  });

  it("prices repeats until sure by the expected count, and says the bounds", () => {
    const text = adviceOn({
      repeats: 10,
      repeats_target: { min: 3, target_ci: 0.03, expected_cv: 0.03 },
    } as Parameters<typeof adviceOn>[0]);
    expect(text).toContain("within ±3%, at least 3 and at most 10 times");
    // t(n − 1) · 3% / √n ≤ 3% first holds at n = 7 (2.447 / 2.646 = 0.925)
    expect(text).toContain("about 7 repeats a level");
  });
});
