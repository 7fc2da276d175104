import { compareLevels, type LevelId } from "../model/level-key.js";
import type { LatencyMetric, LevelSummary } from "../model/types.js";
import { formatChange, formatLevel } from "./format.js";
import { cellAt, type ImageGroup } from "./input.js";
import { NO_SPREAD, NOISE_NOT_MEASURED } from "./noise.js";
import {
  geometricMeanRatio,
  judgeRatio,
  levelRatio,
  type RatioEstimate,
  type RatioJudgement,
} from "./ratio.js";
import { formatRepeats, formatTolerance, type RepeatsEstimate } from "./verdict.js";
import { type ReportWarning, warningsAt } from "./warnings.js";

/**
 * OSS vs Turbo: the ratio Turbo / OSS of throughput and latency at every scale and level, each with
 * its 95% interval from the repeats of both sides, and one plain-language verdict per scale. The
 * verdict judges what it summarizes, the geometric mean of the level ratios, by that mean's own
 * interval (ratio.ts) against 1 ± the tolerance (verdict.ts): the same within it, higher, lower,
 * or inconclusive. Without repeats the verdict gives the difference and says that its noise was
 * not measured: one run of each cannot tell its own noise, and an assumed band would be a claim
 * nobody measured.
 */

export type LatencyKey = "ttft_p50" | "ttft_p99" | "tpot_p50" | "tpot_p99";
export const LATENCY_KEYS: LatencyKey[] = ["ttft_p50", "ttft_p99", "tpot_p50", "tpot_p99"];
export const LATENCY_LABELS: Record<LatencyKey, string> = {
  ttft_p50: "TTFT p50",
  ttft_p99: "TTFT p99",
  tpot_p50: "TPOT p50",
  tpot_p99: "TPOT p99",
};

export function latencyValue(level: LevelSummary, key: LatencyKey): number | undefined {
  const [metric, percentile] = key.split("_") as [LatencyMetric, "p50" | "p99"];
  const stats = level.latency[metric];
  if (!stats) return undefined;
  return percentile === "p99" ? stats.p99 : (stats.p50 ?? stats.median);
}

/** A Turbo / OSS ratio with its 95% interval (when both sides were repeated and varied). */
export interface RatioWithInterval {
  ratio: number;
  interval?: [number, number];
  /** Where the interval lies against 1 ± tolerance, or why there is none. */
  verdict: RatioJudgement["kind"];
}

export interface ComparisonCell {
  level: LevelId;
  scale: number;
  /** Turbo / OSS output throughput; undefined when either side is missing. */
  throughput?: RatioWithInterval;
  /** Turbo / OSS latency (below 1 = Turbo faster). */
  latency: Partial<Record<LatencyKey, RatioWithInterval>>;
  /** Either side carries a data-quality warning at this level. */
  warned: boolean;
}

export type VerdictKind =
  /** The interval of the geometric mean lies inside 1 ± tolerance. */
  | "equivalent"
  | "turbo_higher"
  | "turbo_lower"
  /** The interval holds 1 and reaches outside the band: more repeats would settle it. */
  | "inconclusive"
  /** Some levels are clearly higher and others clearly lower: the mean hides it. */
  | "mixed"
  /** Both sides were repeated but no repeat differed from another: no interval to judge by. */
  | "no_spread"
  /** A difference was measured, but not the noise it should be judged against (no repeats). */
  | "noise_unmeasured"
  | "no_data";

export interface ScaleVerdict {
  scale: number;
  kind: VerdictKind;
  tolerance: number;
  levelsCompared: number;
  /** Geometric mean of the per-level throughput ratios, with its own 95% interval. */
  throughput?: RatioWithInterval;
  minRatio?: number;
  maxRatio?: number;
  /** Inconclusive: repeats per image that would settle it at the spread measured. */
  settle?: RepeatsEstimate;
  /** Geometric means of the latency ratios over the compared levels, with their intervals. */
  latency: Partial<Record<LatencyKey, RatioWithInterval>>;
  levelsWarned: number;
  /** One line a reader can quote. */
  text: string;
}

export interface Comparison {
  oss: string;
  turbo: string;
  scales: number[];
  levels: LevelId[];
  cells: ComparisonCell[];
  verdicts: ScaleVerdict[];
  /** The verdicts in one sentence: "Turbo +4% throughput at 4x, the same within ±5% at 2x and 8x". */
  headline: string;
}

/** Every OSS image against every Turbo image (a plan usually has one of each). */
export function compareRuntimes(
  images: readonly ImageGroup[],
  warnings: readonly ReportWarning[],
  tolerance: number,
): Comparison[] {
  const oss = images.filter((g) => g.runtime === "oss");
  const turbo = images.filter((g) => g.runtime === "turbo");
  return oss.flatMap((o) => turbo.map((t) => compareImages(o, t, warnings, tolerance)));
}

export function compareImages(
  oss: ImageGroup,
  turbo: ImageGroup,
  warnings: readonly ReportWarning[],
  tolerance: number,
): Comparison {
  const scales = [...new Set([...oss.scales, ...turbo.scales])].sort((a, b) => a - b);
  const levelsByKey = new Map([...oss.levels, ...turbo.levels].map((l) => [l.key, l]));
  const levels = [...levelsByKey.values()].sort(compareLevels);
  const cells: ComparisonCell[] = [];
  const estimates = new Map<ComparisonCell, LevelEstimates>();
  for (const scale of scales) {
    for (const level of levels) {
      const { cell, estimate } = compareCell(oss, turbo, scale, level, warnings, tolerance);
      cells.push(cell);
      if (estimate) estimates.set(cell, estimate);
    }
  }
  const verdicts = scales.map((scale) => {
    const compared = cells.filter((c) => c.scale === scale && estimates.has(c));
    return scaleVerdict(scale, compared, estimates, oss, turbo, tolerance);
  });
  return {
    oss: oss.image,
    turbo: turbo.image,
    scales,
    levels,
    cells,
    verdicts,
    headline: headline(verdicts, tolerance),
  };
}

/** A level's ratios as estimates, kept aside so a scale's geometric mean can combine their variances. */
interface LevelEstimates {
  throughput: RatioEstimate;
  latency: Partial<Record<LatencyKey, RatioEstimate>>;
}

function compareCell(
  oss: ImageGroup,
  turbo: ImageGroup,
  scale: number,
  level: LevelId,
  warnings: readonly ReportWarning[],
  tolerance: number,
): { cell: ComparisonCell; estimate?: LevelEstimates } {
  const o = cellAt(oss, scale, level.key);
  const t = cellAt(turbo, scale, level.key);
  const cell: ComparisonCell = { level, scale, latency: {}, warned: false };
  if (!o || !t || !(o.outputThroughput > 0)) return { cell };
  cell.warned =
    warningsAt(warnings, oss.image, scale, level.key).length > 0 ||
    warningsAt(warnings, turbo.image, scale, level.key).length > 0;
  const throughput = levelRatio(
    t.outputThroughput,
    o.outputThroughput,
    (t.repeats ?? []).map((r) => r.outputThroughput),
    (o.repeats ?? []).map((r) => r.outputThroughput),
  );
  cell.throughput = withInterval(throughput, tolerance);
  const latency: LevelEstimates["latency"] = {};
  for (const key of LATENCY_KEYS) {
    const ov = latencyValue(o, key);
    const tv = latencyValue(t, key);
    if (ov === undefined || tv === undefined || !(ov > 0) || !(tv > 0)) continue;
    latency[key] = levelRatio(tv, ov, repeatLatencies(t, key), repeatLatencies(o, key));
    cell.latency[key] = withInterval(latency[key], tolerance);
  }
  return { cell, estimate: { throughput, latency } };
}

/** A level's latency percentile in each repeat, when every repeat recorded it. */
function repeatLatencies(level: LevelSummary, key: LatencyKey): number[] {
  const values = (level.repeats ?? []).map((r) => r[REPEAT_LATENCY[key]]);
  return values.every((v): v is number => typeof v === "number") ? values : [];
}

const REPEAT_LATENCY = {
  ttft_p50: "ttftP50Ms",
  ttft_p99: "ttftP99Ms",
  tpot_p50: "tpotP50Ms",
  tpot_p99: "tpotP99Ms",
} as const;

function withInterval(estimate: RatioEstimate, tolerance: number): RatioWithInterval {
  const judged = judgeRatio(estimate, tolerance);
  const out: RatioWithInterval = { ratio: estimate.ratio, verdict: judged.kind };
  if ("interval" in judged) out.interval = judged.interval;
  return out;
}

function scaleVerdict(
  scale: number,
  compared: ComparisonCell[],
  estimates: Map<ComparisonCell, LevelEstimates>,
  oss: ImageGroup,
  turbo: ImageGroup,
  tolerance: number,
): ScaleVerdict {
  const base = {
    scale,
    tolerance,
    levelsCompared: compared.length,
    levelsWarned: compared.filter((c) => c.warned).length,
    latency: {},
  };
  if (compared.length === 0) {
    const missing = [oss, turbo].filter((g) => !g.experiments.has(scale)).map((g) => runtimeName(g));
    const why = missing.length > 0 ? `${missing.join(" and ")} not measured` : "no level measured on both";
    return { ...base, kind: "no_data", text: `${scale}x: no comparison (${why}).` };
  }
  const levelEstimates = compared.map((c) => estimates.get(c) as LevelEstimates);
  const mean = geometricMeanRatio(levelEstimates.map((e) => e.throughput));
  const { kind, judged } = throughputVerdict(
    levelEstimates.map((e) => e.throughput),
    tolerance,
  );
  const ratios = compared.map((c) => (c.throughput as RatioWithInterval).ratio);
  const latency: ScaleVerdict["latency"] = {};
  for (const key of LATENCY_KEYS) {
    const each = levelEstimates.map((e) => e.latency[key]);
    if (each.every((e): e is RatioEstimate => e !== undefined))
      latency[key] = withInterval(geometricMeanRatio(each), tolerance);
  }
  const verdict: ScaleVerdict = {
    ...base,
    kind,
    throughput: withInterval(mean, tolerance),
    minRatio: Math.min(...ratios),
    maxRatio: Math.max(...ratios),
    latency,
    text: "",
  };
  if ("settle" in judged && judged.settle) verdict.settle = judged.settle;
  verdict.text = verdictText(verdict, compared);
  return verdict;
}

/**
 * A scale's verdict from its levels' Turbo / OSS estimates: the interval of their geometric mean
 * against 1 ± tolerance, unless some levels are clearly higher and others clearly lower (mixed).
 * Pure, so its error rates can be simulated (verdict-simulation.ts, docs/noise.md).
 */
export function throughputVerdict(
  levels: readonly RatioEstimate[],
  tolerance: number,
): { kind: VerdictKind; judged: RatioJudgement } {
  const judged = judgeRatio(geometricMeanRatio(levels), tolerance);
  if (judged.kind === "unmeasured") return { kind: "noise_unmeasured", judged };
  if (judged.kind === "no_spread") return { kind: "no_spread", judged };
  const intervals = levels.map((l) => judgeRatio(l, tolerance)).filter((j) => "interval" in j);
  const above = intervals.some((j) => j.interval[0] > 1);
  const below = intervals.some((j) => j.interval[1] < 1);
  if (above && below) return { kind: "mixed", judged };
  const kinds = {
    within: "equivalent",
    above: "turbo_higher",
    below: "turbo_lower",
    inconclusive: "inconclusive",
  };
  return { kind: kinds[judged.kind] as VerdictKind, judged };
}

/** "+4.2% (95% interval +1.0% to +7.5%)", or the bare change when there is no interval. */
export function formatRatio(r: RatioWithInterval | undefined): string {
  if (!r) return formatChange(undefined);
  if (!r.interval) return formatChange(r.ratio);
  return `${formatChange(r.ratio)} (${formatChange(r.interval[0])} to ${formatChange(r.interval[1])})`;
}

function verdictText(v: ScaleVerdict, compared: ComparisonCell[]): string {
  const t = v.throughput as RatioWithInterval;
  const over = `geometric mean over ${v.levelsCompared} level${v.levelsCompared === 1 ? "" : "s"}`;
  const range =
    v.levelsCompared > 1
      ? `; levels ${formatChange(v.minRatio as number)} to ${formatChange(v.maxRatio as number)}`
      : "";
  const interval = t.interval
    ? `95% interval ${formatChange(t.interval[0])} to ${formatChange(t.interval[1])}, `
    : "";
  const measured = `Turbo ${formatChange(t.ratio)} output throughput (${interval}${over}${range})`;
  const band = `±${formatTolerance(v.tolerance)}`;
  let claim: string;
  switch (v.kind) {
    case "equivalent":
      claim = `the same within ${band}: ${measured}`;
      break;
    case "turbo_higher":
      claim = `Turbo higher, by at least ${formatChange((t.interval as [number, number])[0])}: ${measured}`;
      break;
    case "turbo_lower":
      claim = `Turbo lower, by at least ${formatChange((t.interval as [number, number])[1])}: ${measured}`;
      break;
    case "inconclusive":
      claim =
        `inconclusive: ${measured}; the interval holds no difference and reaches beyond ${band}. ` +
        `${formatRepeats(v.settle as RepeatsEstimate)} repeats per image would settle it at the spread measured`;
      break;
    case "mixed": {
      const at = (pick: (i: [number, number]) => boolean) =>
        compared
          .filter((c) => c.throughput?.interval && pick(c.throughput.interval))
          .map((c) => formatLevel(c.level))
          .join(", ");
      claim = `mixed: Turbo clearly higher at ${at((i) => i[0] > 1)}, clearly lower at ${at((i) => i[1] < 1)}; ${measured}`;
      break;
    }
    case "no_spread":
      claim = `${measured}; ${NO_SPREAD}`;
      break;
    default:
      claim = `${measured}; ${NOISE_NOT_MEASURED}, so this cannot tell a difference from run-to-run variation`;
  }
  const latency = (["ttft_p99", "tpot_p50"] as const)
    .filter((k) => v.latency[k] !== undefined)
    .map((k) => `${LATENCY_LABELS[k]} ${formatRatio(v.latency[k])}`)
    .join(", ");
  const caution =
    v.levelsWarned > 0
      ? ` Read with care: ${v.levelsWarned} of ${v.levelsCompared} compared levels carry data-quality warnings.`
      : "";
  return `${v.scale}x: ${claim}.${latency ? ` Latency Turbo vs OSS: ${latency}.` : ""}${caution}`;
}

const HEADLINE_WORDS: Partial<Record<VerdictKind, (band: string) => string>> = {
  equivalent: (band) => `the same within ${band}`,
  inconclusive: () => "inconclusive",
  mixed: () => "mixed",
  no_data: () => "not compared",
};

/** "Turbo +4% throughput at 4x, the same within ±5% at 2x and 8x (95% intervals from repeats)". */
export function headline(verdicts: readonly ScaleVerdict[], tolerance: number): string {
  const parts: string[] = [];
  const joinScales = (vs: ScaleVerdict[]) => joinAnd(vs.map((v) => `${v.scale}x`));
  // Scales with the same rounded change share one clause: "Turbo +4% throughput at 2x and 4x".
  const byChange = new Map<string, ScaleVerdict[]>();
  for (const v of verdicts) {
    if (!["turbo_higher", "turbo_lower", "noise_unmeasured", "no_spread"].includes(v.kind)) continue;
    const change = formatChange(v.throughput?.ratio, 0);
    byChange.set(change, [...(byChange.get(change) ?? []), v]);
  }
  for (const [change, vs] of byChange) parts.push(`Turbo ${change} throughput at ${joinScales(vs)}`);
  for (const [kind, words] of Object.entries(HEADLINE_WORDS)) {
    const these = verdicts.filter((v) => v.kind === kind);
    if (these.length > 0) parts.push(`${words(`±${formatTolerance(tolerance)}`)} at ${joinScales(these)}`);
  }
  if (parts.length === 0 || verdicts.every((v) => v.kind === "no_data"))
    return "No scale was measured for both OSS and Turbo.";
  const judged = verdicts.filter((v) => v.kind !== "no_data");
  const unmeasured = judged.filter((v) => v.kind === "noise_unmeasured" || v.kind === "no_spread");
  const noise =
    unmeasured.length === 0
      ? " (95% intervals from repeats)"
      : unmeasured.length === judged.length
        ? ` (${unmeasured.some((v) => v.kind === "noise_unmeasured") ? NOISE_NOT_MEASURED : NO_SPREAD})`
        : ` (95% intervals from repeats where every level was repeated; elsewhere ${NOISE_NOT_MEASURED})`;
  const sentence = parts.join(", ");
  return `${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}${noise}.`;
}

function joinAnd(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

function runtimeName(group: ImageGroup): string {
  return group.runtime === "turbo" ? "Turbo" : group.runtime === "oss" ? "OSS" : group.image;
}
