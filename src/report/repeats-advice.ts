import {
  efficiencyHalfWidth,
  MIN_REPEATS,
  repeatsForHalfWidth,
  TARGET_RELATIVE_HALF_WIDTH,
} from "./noise.js";

/**
 * What a plan's `benchmark.repeats` buys, said before anything is paid for (predict, the dry run,
 * doctor), in the terms the report will use afterwards: whether E(N) gets a 95% interval, and how
 * wide it would be for a given run-to-run spread. The spread itself is only known once measured,
 * so the widths are shown for illustrative spreads, never as a prediction.
 */

/** Run-to-run spreads (coefficients of variation of a level's throughput) the advice illustrates with. */
const ILLUSTRATIVE_SPREADS = [0.05, 0.1];

export function repeatsAdvice(repeats: number): string {
  const head = `Repeats: ${repeats} (benchmark.repeats)`;
  const widths = ILLUSTRATIVE_SPREADS.map(
    (cv) => `±${percent(efficiencyHalfWidth(repeats, cv, cv))} if runs spread by ${percent(cv)}`,
  );
  const [spread] = ILLUSTRATIVE_SPREADS as [number];
  const enough = `±${percent(TARGET_RELATIVE_HALF_WIDTH)} at a ${percent(spread)} spread takes ${repeatsForHalfWidth(spread, spread)} repeats`;
  if (repeats === 1) {
    const three = ILLUSTRATIVE_SPREADS.map(
      (cv) => `±${percent(efficiencyHalfWidth(MIN_REPEATS, cv, cv))} at a ${percent(cv)} spread`,
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

function percent(fraction: number): string {
  const p = fraction * 100;
  return `${p >= 10 || Number.isInteger(p) ? p.toFixed(0) : p.toFixed(1)}%`;
}
