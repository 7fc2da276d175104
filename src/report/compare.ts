import type { LevelId } from "../model/level-key.js";
import type { LatencyMetric, LevelSummary } from "../model/types.js";
import { formatChange } from "./format.js";
import { cellAt, type ImageGroup } from "./input.js";
import { NOISE_NOT_MEASURED } from "./noise.js";
import { geometricMean, ratioRelativeCi95, spreadOf } from "./stats.js";
import { type ReportWarning, warningsAt } from "./warnings.js";

/**
 * OSS vs Turbo: the ratio Turbo / OSS of throughput and latency at every scale and level, and one
 * plain-language verdict per scale. "Noise" is the measured one: the 95% confidence interval of the
 * ratio from repeated levels, when every compared level was repeated on both sides. Otherwise the
 * verdict gives the difference and says that its noise was not measured: one run of each cannot
 * tell its own noise, and an assumed band would be a claim nobody measured.
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

export interface ComparisonCell {
  level: LevelId;
  scale: number;
  /** Turbo / OSS output throughput; undefined when either side is missing. */
  throughputRatio?: number;
  /** Half-width of its 95% CI (relative), when both sides were repeated. */
  ratioCi95?: number;
  /** Turbo / OSS latency (below 1 = Turbo faster). */
  latencyRatios: Partial<Record<LatencyKey, number>>;
  /** Either side carries a data-quality warning at this level. */
  warned: boolean;
}

export type VerdictKind =
  | "turbo_higher"
  | "turbo_lower"
  | "within_noise"
  | "mixed"
  /** A difference was measured, but not the noise it should be judged against (no repeats). */
  | "noise_unmeasured"
  | "no_data";

export interface ScaleVerdict {
  scale: number;
  kind: VerdictKind;
  levelsCompared: number;
  /** Geometric mean of the per-level throughput ratios. */
  meanRatio?: number;
  minRatio?: number;
  maxRatio?: number;
  /** The measured noise band, relative (0.03 = ±3%); undefined when it was not measured. */
  noise?: number;
  noiseSource: "repeats" | "unmeasured";
  /** Geometric means of the latency ratios over the compared levels. */
  latencyRatios: Partial<Record<LatencyKey, number>>;
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
  /** The verdicts in one sentence: "Turbo +4% throughput at 4x, within noise at 2x and 8x". */
  headline: string;
}

/** Every OSS image against every Turbo image (a plan usually has one of each). */
export function compareRuntimes(
  images: readonly ImageGroup[],
  warnings: readonly ReportWarning[],
): Comparison[] {
  const oss = images.filter((g) => g.runtime === "oss");
  const turbo = images.filter((g) => g.runtime === "turbo");
  return oss.flatMap((o) => turbo.map((t) => compareImages(o, t, warnings)));
}

export function compareImages(
  oss: ImageGroup,
  turbo: ImageGroup,
  warnings: readonly ReportWarning[],
): Comparison {
  const scales = [...new Set([...oss.scales, ...turbo.scales])].sort((a, b) => a - b);
  const levelsByKey = new Map([...oss.levels, ...turbo.levels].map((l) => [l.key, l]));
  const levels = [...levelsByKey.values()].sort((a, b) =>
    a.mode !== b.mode ? (a.mode === "concurrency" ? -1 : 1) : a.value - b.value,
  );
  const cells: ComparisonCell[] = [];
  for (const scale of scales) {
    for (const level of levels) cells.push(compareCell(oss, turbo, scale, level, warnings));
  }
  const verdicts = scales.map((scale) =>
    scaleVerdict(
      scale,
      cells.filter((c) => c.scale === scale),
      oss,
      turbo,
    ),
  );
  return {
    oss: oss.image,
    turbo: turbo.image,
    scales,
    levels,
    cells,
    verdicts,
    headline: headline(verdicts),
  };
}

function compareCell(
  oss: ImageGroup,
  turbo: ImageGroup,
  scale: number,
  level: LevelId,
  warnings: readonly ReportWarning[],
): ComparisonCell {
  const o = cellAt(oss, scale, level.key);
  const t = cellAt(turbo, scale, level.key);
  const cell: ComparisonCell = { level, scale, latencyRatios: {}, warned: false };
  if (!o || !t) return cell;
  cell.warned =
    warningsAt(warnings, oss.image, scale, level.key).length > 0 ||
    warningsAt(warnings, turbo.image, scale, level.key).length > 0;
  if (o.outputThroughput > 0) cell.throughputRatio = t.outputThroughput / o.outputThroughput;
  const ci = ratioRelativeCi95(
    spreadOf((t.repeats ?? []).map((r) => r.outputThroughput)),
    spreadOf((o.repeats ?? []).map((r) => r.outputThroughput)),
  );
  if (ci !== undefined) cell.ratioCi95 = ci;
  for (const key of LATENCY_KEYS) {
    const ov = latencyValue(o, key);
    const tv = latencyValue(t, key);
    if (ov !== undefined && tv !== undefined && ov > 0) cell.latencyRatios[key] = tv / ov;
  }
  return cell;
}

function scaleVerdict(
  scale: number,
  cells: ComparisonCell[],
  oss: ImageGroup,
  turbo: ImageGroup,
): ScaleVerdict {
  const compared = cells.filter((c) => c.throughputRatio !== undefined);
  const withCi = compared.filter((c) => c.ratioCi95 !== undefined);
  const fromRepeats = compared.length > 0 && withCi.length === compared.length;
  const noise = fromRepeats
    ? Math.sqrt(withCi.reduce((acc, c) => acc + (c.ratioCi95 as number) ** 2, 0) / withCi.length)
    : undefined;
  const base = {
    scale,
    levelsCompared: compared.length,
    ...(noise !== undefined ? { noise } : {}),
    noiseSource: fromRepeats ? ("repeats" as const) : ("unmeasured" as const),
    levelsWarned: compared.filter((c) => c.warned).length,
  };
  if (compared.length === 0) {
    const missing = [oss, turbo].filter((g) => !g.experiments.has(scale)).map((g) => runtimeName(g));
    const why = missing.length > 0 ? `${missing.join(" and ")} not measured` : "no level measured on both";
    return { ...base, kind: "no_data", latencyRatios: {}, text: `${scale}x: no comparison (${why}).` };
  }
  const ratios = compared.map((c) => c.throughputRatio as number);
  const meanRatio = geometricMean(ratios);
  const kind = verdictKind(ratios, meanRatio, noise);
  const latencyRatios: Partial<Record<LatencyKey, number>> = {};
  for (const key of LATENCY_KEYS) {
    const values = compared.map((c) => c.latencyRatios[key]).filter((v): v is number => v !== undefined);
    if (values.length > 0) latencyRatios[key] = geometricMean(values);
  }
  const verdict: ScaleVerdict = {
    ...base,
    kind,
    meanRatio,
    minRatio: Math.min(...ratios),
    maxRatio: Math.max(...ratios),
    latencyRatios,
    text: "",
  };
  verdict.text = verdictText(verdict, compared);
  return verdict;
}

function verdictKind(ratios: number[], meanRatio: number, noise: number | undefined): VerdictKind {
  if (noise === undefined) return "noise_unmeasured";
  const above = ratios.filter((r) => r - 1 > noise).length;
  const below = ratios.filter((r) => 1 - r > noise).length;
  if (above > 0 && below > 0) return "mixed";
  if (Math.abs(meanRatio - 1) <= noise) return "within_noise";
  return meanRatio > 1 ? "turbo_higher" : "turbo_lower";
}

function verdictText(v: ScaleVerdict, compared: ComparisonCell[]): string {
  const over = `over ${v.levelsCompared} level${v.levelsCompared === 1 ? "" : "s"}`;
  const range =
    v.levelsCompared > 1
      ? `, ${formatChange(v.minRatio as number)} to ${formatChange(v.maxRatio as number)}`
      : "";
  const noise = noiseText(v);
  let claim: string;
  switch (v.kind) {
    case "turbo_higher":
    case "turbo_lower":
      claim = `Turbo ${formatChange(v.meanRatio as number)} output throughput (geometric mean ${over}${range}), beyond ${noise}`;
      break;
    case "within_noise":
      claim = `within noise: Turbo ${formatChange(v.meanRatio as number)} output throughput (geometric mean ${over}${range}), inside ${noise}`;
      break;
    case "noise_unmeasured":
      claim = `Turbo ${formatChange(v.meanRatio as number)} output throughput (geometric mean ${over}${range}); ${noise}, so this cannot tell a difference from run-to-run variation`;
      break;
    default: {
      const levelsAt = (pick: (r: number) => boolean) =>
        compared
          .filter((c) => pick(c.throughputRatio as number))
          .map((c) => c.level.key)
          .join(", ");
      claim =
        `mixed: Turbo higher at ${levelsAt((r) => r - 1 > (v.noise ?? 0))}, lower at ${levelsAt((r) => 1 - r > (v.noise ?? 0))} ` +
        `(geometric mean ${formatChange(v.meanRatio as number)} ${over}; ${noise})`;
    }
  }
  const latency = (["ttft_p99", "tpot_p50"] as const)
    .filter((k) => v.latencyRatios[k] !== undefined)
    .map((k) => `${LATENCY_LABELS[k]} ${formatChange(v.latencyRatios[k] as number)}`)
    .join(", ");
  const caution =
    v.levelsWarned > 0
      ? ` Read with care: ${v.levelsWarned} of ${v.levelsCompared} compared levels carry data-quality warnings.`
      : "";
  return `${v.scale}x: ${claim}.${latency ? ` Latency Turbo vs OSS: ${latency}.` : ""}${caution}`;
}

function noiseText(v: Pick<ScaleVerdict, "noise" | "noiseSource">): string {
  if (v.noise === undefined) return NOISE_NOT_MEASURED;
  const band = `±${(v.noise * 100).toFixed(1).replace(/\.0$/, "")}%`;
  return `the ${band} noise band (95% confidence from repeats)`;
}

/** "Turbo +4% throughput at 4x, within noise at 2x and 8x (noise: 95% confidence from repeats)". */
export function headline(verdicts: readonly ScaleVerdict[]): string {
  const parts: string[] = [];
  const joinScales = (vs: ScaleVerdict[]) => joinAnd(vs.map((v) => `${v.scale}x`));
  // Scales with the same rounded change share one clause: "Turbo +4% throughput at 2x and 4x".
  const byChange = new Map<string, ScaleVerdict[]>();
  for (const v of verdicts) {
    if (v.kind !== "turbo_higher" && v.kind !== "turbo_lower" && v.kind !== "noise_unmeasured") continue;
    const change = formatChange(v.meanRatio as number, 0);
    byChange.set(change, [...(byChange.get(change) ?? []), v]);
  }
  for (const [change, vs] of byChange) parts.push(`Turbo ${change} throughput at ${joinScales(vs)}`);
  const within = verdicts.filter((v) => v.kind === "within_noise");
  if (within.length > 0) parts.push(`within noise at ${joinScales(within)}`);
  const mixed = verdicts.filter((v) => v.kind === "mixed");
  if (mixed.length > 0) parts.push(`mixed at ${joinScales(mixed)}`);
  const none = verdicts.filter((v) => v.kind === "no_data");
  if (none.length > 0) parts.push(`not compared at ${joinScales(none)}`);
  if (parts.length === 0) return "No scale was measured for both OSS and Turbo.";
  const sources = new Set(verdicts.filter((v) => v.kind !== "no_data").map((v) => v.noiseSource));
  const noise = sources.has("unmeasured")
    ? sources.has("repeats")
      ? ` (noise: 95% confidence from repeats where every level was repeated; elsewhere ${NOISE_NOT_MEASURED})`
      : ` (${NOISE_NOT_MEASURED})`
    : sources.has("repeats")
      ? " (noise: 95% confidence from repeats)"
      : "";
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
