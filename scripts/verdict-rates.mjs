// Prints how often the report's verdicts are right, by simulation with the report's own functions
// (src/report/verdict-simulation.ts): the false-positive rate and the power of the OSS vs Turbo
// comparison and of E(N)'s verdict, as docs/noise.md states them.
//
//   npm run build && node scripts/verdict-rates.mjs
import { simulateComparison, simulateEfficiency } from "../dist/report/verdict-simulation.js";

const TRIALS = 20_000;
const SEED = 17;
const pct = (share) => `${((share ?? 0) * 100).toFixed(1)}%`;

console.log("OSS vs Turbo, one scale: the geometric mean over the levels, tolerance ±5%");
console.log("| levels | repeats | cv | true Turbo/OSS | higher | lower | same ±5% | inconclusive | mixed |");
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const [levels, repeats, cv] of [
  [7, 3, 0.1],
  [7, 5, 0.1],
  [7, 3, 0.05],
  [3, 3, 0.1],
]) {
  for (const trueRatio of [1, 1.05, 1.15]) {
    const r = simulateComparison({
      levels,
      repeats,
      cv,
      trueRatio,
      tolerance: 0.05,
      trials: TRIALS,
      seed: SEED,
    });
    console.log(
      `| ${levels} | ${repeats} | ${cv * 100}% | ${trueRatio} | ${pct(r.turbo_higher)} | ${pct(r.turbo_lower)} | ${pct(r.equivalent)} | ${pct(r.inconclusive)} | ${pct(r.mixed)} |`,
    );
  }
}

console.log("\nE(2x) of one level, tolerance ±5%");
console.log("| repeats | cv | true E | linear ±5% | sub-linear | superlinear | inconclusive |");
console.log("|---:|---:|---:|---:|---:|---:|---:|");
for (const [repeats, cv] of [
  [3, 0.01],
  [3, 0.05],
  [3, 0.1],
  [10, 0.05],
]) {
  for (const trueEfficiency of [1, 0.97, 0.8]) {
    const r = simulateEfficiency({
      repeats,
      cv,
      trueEfficiency,
      tolerance: 0.05,
      trials: TRIALS,
      seed: SEED,
    });
    console.log(
      `| ${repeats} | ${cv * 100}% | ${trueEfficiency * 100}% | ${pct(r.linear)} | ${pct(r.sub_linear)} | ${pct(r.superlinear_suspect)} | ${pct(r.inconclusive)} |`,
    );
  }
}
