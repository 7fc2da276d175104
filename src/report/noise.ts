import type { LevelId } from "../model/level-key.js";
import { formatLevel, formatScale, imageTitle } from "./format.js";
import type { ImageGroup } from "./input.js";
import type { ScalingPoint, ScalingTable } from "./scaling.js";
import { tQuantile95 } from "./stats.js";

/**
 * What the report may say about E(N) given the noise it measured (docs/noise.md):
 *   - the 95% interval of E(N) comes from the repeats of T(N) and T(N₀) (scaling.ts: the
 *     relative standard errors of the two means in quadrature, the delta method, with
 *     Welch–Satterthwaite degrees of freedom);
 *   - the words follow the interval: "consistent with linear" only when it holds 100%,
 *     "sub-linear" when it lies below, "superlinear, suspect" when it lies above;
 *   - without repeats there is no interval, and the report says so instead of assuming a band;
 *   - "what would be enough": how many repeats would bring each interval to ±5%, from the
 *     measured between-repeat spread.
 */

export type EfficiencyVerdict =
  | "consistent_with_linear"
  | "sub_linear"
  | "superlinear_suspect"
  | "unmeasured";

export const NOISE_NOT_MEASURED = "noise not measured (repeats: 1); run with repeats ≥ 3";

export const VERDICT_WORDS: Record<EfficiencyVerdict, string> = {
  consistent_with_linear: "consistent with linear",
  sub_linear: "sub-linear",
  superlinear_suspect: "superlinear, suspect",
  unmeasured: NOISE_NOT_MEASURED,
};

/** The half-width of E(N)'s interval the "what would be enough" advice aims at (±5 points of E = ±5%). */
export const TARGET_RELATIVE_HALF_WIDTH = 0.05;

/** Two repeats measure a spread from one degree of freedom per side: too little to trust it. */
export const MIN_REPEATS = 3;

/** The interval [low, high] of E(N), when both scales were repeated. */
export function efficiencyInterval(point: ScalingPoint): [number, number] | undefined {
  if (point.efficiency === undefined || point.efficiencyCi95 === undefined) return undefined;
  return [point.efficiency - point.efficiencyCi95, point.efficiency + point.efficiencyCi95];
}

export function efficiencyVerdict(point: ScalingPoint): EfficiencyVerdict {
  const interval = efficiencyInterval(point);
  if (!interval) return "unmeasured";
  if (interval[1] < 1) return "sub_linear";
  if (interval[0] > 1) return "superlinear_suspect";
  return "consistent_with_linear";
}

/**
 * Repeats per scale that would make the 95% interval of E(N) = T(N)/T(N₀)·N₀/N about ±target
 * (relative), if the between-repeat coefficients of variation stay as measured: the smallest n
 * with t(2n − 2) · √((cv_N² + cv_0²) / n) ≤ target, and never fewer than MIN_REPEATS. At cv 15%
 * on both sides that is 70.
 */
export function repeatsForHalfWidth(
  cvN: number,
  cvBase: number,
  target = TARGET_RELATIVE_HALF_WIDTH,
): number {
  if (cvN ** 2 + cvBase ** 2 === 0) return MIN_REPEATS;
  for (let n = MIN_REPEATS; n < 100_000; n++) {
    if (efficiencyHalfWidth(n, cvN, cvBase) <= target) return n;
  }
  return 100_000;
}

/**
 * The relative half-width of E(N)'s 95% interval with `repeats` per scale, when the two scales'
 * between-repeat coefficients of variation are cvN and cvBase (the model repeatsForHalfWidth
 * inverts). Infinite for a single repeat: one sweep measures no spread.
 */
export function efficiencyHalfWidth(repeats: number, cvN: number, cvBase: number): number {
  return tQuantile95(2 * repeats - 2) * Math.sqrt((cvN ** 2 + cvBase ** 2) / repeats);
}

/** One scale of one image: its levels by verdict, and the repeats that would be enough. */
export interface ScaleNoise {
  scale: number;
  byVerdict: Partial<Record<EfficiencyVerdict, LevelId[]>>;
  /** Levels with an interval: their measured spreads and the repeats each would need. */
  needs: Array<{ level: LevelId; cvN: number; cvBase: number; repeats: number; have: number }>;
}

export function scaleNoise(table: ScalingTable): ScaleNoise[] {
  const out: ScaleNoise[] = [];
  const base = table.baseScale;
  if (base === undefined) return out;
  for (const scale of table.scales) {
    if (scale === base) continue;
    const entry: ScaleNoise = { scale, byVerdict: {}, needs: [] };
    for (const row of table.rows) {
      const point = row.points.find((p) => p.scale === scale);
      const basePoint = row.points.find((p) => p.scale === base);
      if (!point || point.efficiency === undefined) continue;
      const verdict = efficiencyVerdict(point);
      entry.byVerdict[verdict] = [...(entry.byVerdict[verdict] ?? []), row.level];
      if (point.spread && basePoint?.spread && verdict !== "unmeasured") {
        const cvN = point.spread.std / point.spread.mean;
        const cvBase = basePoint.spread.std / basePoint.spread.mean;
        entry.needs.push({
          level: row.level,
          cvN,
          cvBase,
          repeats: repeatsForHalfWidth(cvN, cvBase),
          have: Math.min(point.spread.n, basePoint.spread.n),
        });
      }
    }
    if (Object.keys(entry.byVerdict).length > 0) out.push(entry);
  }
  return out;
}

/** The sentences about one image's E(N): verdicts by the intervals, and what would be enough. */
export function noiseLines(group: ImageGroup, table: ScalingTable): string[] {
  const base = table.baseScale;
  if (base === undefined) return [];
  const lines: string[] = [];
  for (const s of scaleNoise(table)) {
    const e = `E(${formatScale(s.scale)})`;
    const parts = (Object.keys(VERDICT_WORDS) as EfficiencyVerdict[])
      .filter((v) => v !== "unmeasured" && s.byVerdict[v])
      .map((v) => `${VERDICT_WORDS[v]} at ${levelList(s.byVerdict[v] ?? [])}`);
    const unmeasured = s.byVerdict.unmeasured;
    if (parts.length > 0) {
      lines.push(
        `${imageTitle(group)}, ${e}: ${parts.join("; ")} (95% intervals from the repeats).` +
          (unmeasured ? ` At ${levelList(unmeasured)}: ${NOISE_NOT_MEASURED}.` : ""),
      );
    } else {
      lines.push(`${imageTitle(group)}, ${e}: ${NOISE_NOT_MEASURED}.`);
    }
    if (s.needs.length > 0) lines.push(enoughLine(`${imageTitle(group)}, ${e}`, s));
  }
  return lines;
}

function enoughLine(e: string, s: ScaleNoise): string {
  const spreads = s.needs.flatMap((n) => [n.cvN, n.cvBase]);
  const low = Math.min(...spreads);
  const high = Math.max(...spreads);
  const have = Math.min(...s.needs.map((n) => n.have));
  const each = s.needs.map((n) => `${n.repeats} at ${formatLevel(n.level)}`).join(", ");
  const spread =
    Math.round(low * 1000) === Math.round(high * 1000) ? percent(low) : `${percent(low)}–${percent(high)}`;
  const enough = s.needs.every((n) => n.repeats <= have);
  return (
    `What would be enough for ${e}: at the between-repeat spread measured here (${spread} coefficient of variation), ` +
    `an interval of ±${percent(TARGET_RELATIVE_HALF_WIDTH)} takes this many repeats per scale: ${each}; ` +
    (enough ? `the ${have} run are enough.` : `${have} were run.`)
  );
}

function levelList(levels: LevelId[]): string {
  return levels.map(formatLevel).join(", ");
}

function percent(fraction: number): string {
  const p = fraction * 100;
  return `${p >= 10 || Number.isInteger(p) ? p.toFixed(0) : p.toFixed(1)}%`;
}
