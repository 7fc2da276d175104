import { expectedRepeats } from "../plan/estimate.js";
import type { Plan, RepeatsTarget } from "../plan/resolve.js";
import { tQuantile95 } from "./stats.js";
import { DEFAULT_TOLERANCE, MIN_REPEATS, repeatsForHalfWidth } from "./verdict.js";

/**
 * What a plan's `benchmark.repeats` buys, said before anything is paid for (predict, the dry run,
 * doctor), in the terms the report will use afterwards: whether E(N) gets a 95% interval, and how
 * wide it would be for a given run-to-run spread. The spread itself is only known once measured,
 * so the widths are shown for illustrative spreads, never as a prediction.
 */

/** Run-to-run spreads (coefficients of variation of a level's throughput) the advice illustrates with. */
const ILLUSTRATIVE_SPREADS = [0.05, 0.1];

export function repeatsAdvice(benchmark: Plan["benchmark"]): string {
  const target = benchmark.repeats_target;
  return target
    ? targetAdvice(benchmark.repeats, target, expectedRepeats(benchmark))
    : fixedAdvice(benchmark.repeats);
}

/** Repeats until sure: each level stops once its throughput interval is within ±target_ci. */
function targetAdvice(max: number, target: RepeatsTarget, expected: number): string {
  return (
    `Repeats: until sure (benchmark.repeats): each level repeats until its throughput's 95% interval is ` +
    `within ±${percent(target.target_ci)}, at least ${target.min} and at most ${max} times; at a ` +
    `${percent(target.expected_cv)} run-to-run spread (benchmark.repeats.expected_cv) that is about ${expected} ` +
    `repeats a level. The dry run and predict price both the maximum and the expected count; every E(N) ` +
    `gets a 95% interval (±${percent(efficiencyHalfWidth(expected, target.expected_cv))} at that spread and count).`
  );
}

function fixedAdvice(repeats: number): string {
  const head = `Repeats: ${repeats} (benchmark.repeats)`;
  const widths = ILLUSTRATIVE_SPREADS.map(
    (cv) => `±${percent(efficiencyHalfWidth(repeats, cv))} if runs spread by ${percent(cv)}`,
  );
  const [spread] = ILLUSTRATIVE_SPREADS as [number];
  const enough = `±${percent(DEFAULT_TOLERANCE)} at a ${percent(spread)} spread takes ${repeatsForTolerance(spread)} repeats`;
  if (repeats === 1) {
    const three = ILLUSTRATIVE_SPREADS.map(
      (cv) => `±${percent(efficiencyHalfWidth(MIN_REPEATS, cv))} at a ${percent(cv)} spread`,
    );
    return (
      `${head}: the sweep runs once, so run-to-run noise is not measured; E(N) gets no interval and the report ` +
      `says "noise not measured". With repeats: ${MIN_REPEATS} every E(N) gets a 95% interval (${three.join(", ")}) ` +
      `for ${MIN_REPEATS}× the benchmark time (docs/noise.md).`
    );
  }
  const few =
    repeats < MIN_REPEATS
      ? `; ${repeats} repeats give one degree of freedom per scale, too few to trust the spread (${MIN_REPEATS} or more)`
      : "";
  return (
    `${head}: the whole sweep runs ${repeats} times (${repeats}× the benchmark time, counted in the estimates of ` +
    `predict and the dry run), so every E(N) gets a 95% ` +
    `interval from the measured spread: ${widths.join(", ")} (${enough})${few}.`
  );
}

/**
 * The relative half-width of E(N)'s 95% interval with `repeats` per scale when both scales'
 * runs spread by `cv` (the report's model: Welch over two sides, 2n − 2 degrees of freedom).
 * Infinite for one repeat: one sweep measures no spread.
 */
function efficiencyHalfWidth(repeats: number, cv: number): number {
  return tQuantile95(2 * repeats - 2) * Math.sqrt((2 * cv ** 2) / repeats);
}

/** Repeats per scale for an interval of ±DEFAULT_TOLERANCE at E = 100%: "linear within ±5%" becomes possible. */
function repeatsForTolerance(cv: number): number {
  return repeatsForHalfWidth(2 * cv ** 2, DEFAULT_TOLERANCE, (n) => 2 * n - 2);
}

function percent(fraction: number): string {
  const p = fraction * 100;
  return `${p >= 10 || Number.isInteger(p) ? p.toFixed(0) : p.toFixed(1)}%`;
}
