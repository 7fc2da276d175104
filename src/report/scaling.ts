import type { LevelId } from "../model/level-key.js";
import type { LevelSummary } from "../model/types.js";
import { cellAt, type ImageGroup } from "./input.js";
import { type EfficiencyJudgement, judgeEfficiency } from "./noise.js";
import { type Spread, spreadOf } from "./stats.js";

/**
 * Scaling at the same per-client load (clients scale with replicas, so the same per-replica load):
 * speed-up S(N) = T(N) / T(N₀) and efficiency E(N) = S(N) / (N / N₀), N₀ the smallest scale measured
 * for the image. Linear scaling is E = 1. See docs/metrics.md, "Scaling".
 */

export type ThroughputMetric = "output_throughput" | "output_goodput" | "request_goodput";

interface MetricInfo {
  label: string;
  unit: string;
  value(level: LevelSummary): number | undefined;
  /** The repeated measurements of the value, when the level was repeated. */
  repeats(level: LevelSummary): number[];
}

export const THROUGHPUT_METRICS: Record<ThroughputMetric, MetricInfo> = {
  output_throughput: {
    label: "output throughput",
    unit: "tok/s",
    value: (l) => l.outputThroughput,
    repeats: (l) => (l.repeats ?? []).map((r) => r.outputThroughput),
  },
  output_goodput: {
    label: "output goodput (requests meeting every SLO)",
    unit: "tok/s",
    value: (l) => l.outputGoodput ?? undefined,
    repeats: (l) => goodputRepeats(l, "outputGoodput"),
  },
  request_goodput: {
    label: "request goodput (requests meeting every SLO)",
    unit: "req/s",
    value: (l) => l.requestGoodput ?? undefined,
    repeats: (l) => goodputRepeats(l, "requestGoodput"),
  },
};

/** A goodput's repeats, only when every repeat has it (a partial list would fake a spread). */
function goodputRepeats(level: LevelSummary, key: "outputGoodput" | "requestGoodput"): number[] {
  const values = (level.repeats ?? []).map((r) => r[key]);
  return values.every((v): v is number => typeof v === "number") ? values : [];
}

export interface ScalingPoint {
  scale: number;
  /** T(N), aggregate over all replicas; undefined when not measured. */
  throughput?: number;
  /** T(N) / N. */
  perReplica?: number;
  /** Spread of T(N) over repeats, when the level was repeated. */
  spread?: Spread;
  /** S(N) = T(N) / T(N₀). */
  speedup?: number;
  /** E(N) = S(N) / (N / N₀). */
  efficiency?: number;
  /** Half-width of the 95% confidence interval of E(N), when both scales were repeated and varied. */
  efficiencyCi95?: number;
  /** What the report may say about E(N), for every scale above N₀ that has one (noise.ts). */
  judgement?: EfficiencyJudgement;
}

export interface ScalingRow {
  level: LevelId;
  /** One per scale of the image, in ascending order; holes stay holes. */
  points: ScalingPoint[];
}

export interface ScalingTable {
  image: string;
  metric: ThroughputMetric;
  /** E(N) within 100% ± this is "linear" (report.linearity_tolerance). */
  tolerance: number;
  /** N₀: the smallest scale with any measurement, or undefined when nothing was measured. */
  baseScale?: number;
  scales: number[];
  rows: ScalingRow[];
}

/** S(N) = T(N) / T(N₀). */
export function speedup(throughput: number, baseThroughput: number): number {
  return throughput / baseThroughput;
}

/** E(N) = S(N) / (N / N₀) = T(N) / ((N / N₀) × T(N₀)). */
export function efficiency(
  throughput: number,
  scale: number,
  baseThroughput: number,
  baseScale: number,
): number {
  return speedup(throughput, baseThroughput) / (scale / baseScale);
}

export function scalingTable(group: ImageGroup, metric: ThroughputMetric, tolerance: number): ScalingTable {
  const info = THROUGHPUT_METRICS[metric];
  const measuredScales = group.scales.filter((s) => (group.cells.get(s)?.size ?? 0) > 0);
  const baseScale = measuredScales[0];
  const rows = group.levels.map((level): ScalingRow => {
    const base = baseScale === undefined ? undefined : measure(group, baseScale, level.key, info);
    return {
      level,
      points: group.scales.map((scale) => {
        const point: ScalingPoint = { scale, ...measure(group, scale, level.key, info) };
        if (point.throughput !== undefined) point.perReplica = point.throughput / scale;
        if (
          baseScale !== undefined &&
          base?.throughput !== undefined &&
          base.throughput > 0 &&
          point.throughput !== undefined
        ) {
          point.speedup = speedup(point.throughput, base.throughput);
          point.efficiency = efficiency(point.throughput, scale, base.throughput, baseScale);
          if (scale !== baseScale) {
            point.judgement = judgeEfficiency(point.efficiency, point.spread, base.spread, tolerance);
            const interval = point.judgement.interval;
            if (interval) point.efficiencyCi95 = interval[1] - point.efficiency;
          }
        }
        return point;
      }),
    };
  });
  const table: ScalingTable = { image: group.image, metric, tolerance, scales: group.scales, rows };
  if (baseScale !== undefined) table.baseScale = baseScale;
  return table;
}

function measure(
  group: ImageGroup,
  scale: number,
  key: string,
  info: MetricInfo,
): Pick<ScalingPoint, "throughput" | "spread"> {
  const level = cellAt(group, scale, key);
  const value = level ? info.value(level) : undefined;
  if (level === undefined || value === undefined || !Number.isFinite(value)) return {};
  const spread = spreadOf(info.repeats(level));
  return spread ? { throughput: value, spread } : { throughput: value };
}

/** The goodput metric the data has, preferring tokens over requests; undefined when no SLOs were set. */
export function goodputMetric(groups: readonly ImageGroup[]): ThroughputMetric | undefined {
  const levels = groups.flatMap((g) => [...g.cells.values()].flatMap((byKey) => [...byKey.values()]));
  if (levels.some((l) => typeof l.outputGoodput === "number")) return "output_goodput";
  if (levels.some((l) => typeof l.requestGoodput === "number")) return "request_goodput";
  return undefined;
}
