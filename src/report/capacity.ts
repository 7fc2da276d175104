import type { LevelId } from "../model/level-key.js";
import type { LevelSummary, RepeatSummary, RunSlo } from "../model/types.js";
import { cellAt, type ImageGroup } from "./input.js";
import { kneeIndex } from "./knee.js";
import { type EfficiencyJudgement, judgeEfficiency } from "./noise.js";
import { type Spread, spreadOf } from "./stats.js";

/**
 * Capacity under an SLO (docs/report.md, "Capacity"): per image and scale, the largest load per
 * replica — achieved request throughput / N, req/s — at which a level still meets the SLO's
 * capacity criterion.
 *
 * Each level gets an excess: how far it is past the criterion, ≤ 0 when it meets it.
 *   - percentile P: max over the limited latencies of (pP latency / limit) − 1;
 *   - goodput fraction F: F − (request goodput / request throughput).
 * The levels are walked in the plan's order (increasing offered load). Capacity lies between the
 * last level that meets the criterion and the first that does not, where the straight line through
 * their (load, excess) points crosses 0. A first level that already fails gives "below the lowest
 * level measured", a last level that still meets gives "above the highest": answers, not numbers.
 *
 * With repeats, capacity is found in every repeat from that repeat's own levels; the estimate is
 * their mean and its 95% interval Student's t over them (as for throughput). Capacity efficiency
 * C(N) / ((N / N₀) × C(N₀)), with C the total capacity, is the per-replica capacity at N over that
 * at N₀, judged by the same rule as E(N) (noise.ts).
 */

export type SloMetric = "ttft" | "tpot" | "e2el";

export type CapacityCriterion =
  | { kind: "percentile"; percentile: 50 | 90 | 95 | 99; limitsMs: Partial<Record<SloMetric, number>> }
  | { kind: "goodput_fraction"; fraction: number };

/** The plan's capacity criterion, or undefined when its SLO has none (goodput only). */
export function capacityCriterion(slo: RunSlo | undefined): CapacityCriterion | undefined {
  if (!slo) return undefined;
  if (slo.goodputFraction !== undefined) return { kind: "goodput_fraction", fraction: slo.goodputFraction };
  if (slo.percentile === undefined) return undefined;
  const limitsMs: Partial<Record<SloMetric, number>> = {};
  if (slo.ttftMs !== undefined) limitsMs.ttft = slo.ttftMs;
  if (slo.tpotMs !== undefined) limitsMs.tpot = slo.tpotMs;
  if (slo.e2elMs !== undefined) limitsMs.e2el = slo.e2elMs;
  return { kind: "percentile", percentile: slo.percentile, limitsMs };
}

/** "p99 TTFT ≤ 500 ms, p99 TPOT ≤ 40 ms" or "≥ 95% of requests within every limit". */
export function describeCriterion(criterion: CapacityCriterion): string {
  if (criterion.kind === "goodput_fraction")
    return `≥ ${Number((criterion.fraction * 100).toFixed(2))}% of requests within every limit`;
  return Object.entries(criterion.limitsMs)
    .map(([metric, limit]) => `p${criterion.percentile} ${metric.toUpperCase()} ≤ ${limit} ms`)
    .join(", ");
}

/** What one level (or one repeat of it) says: its load per replica and how far past the criterion. */
export interface LoadPoint {
  level: LevelId;
  /** Achieved request throughput per replica, req/s. */
  load: number;
  /** ≤ 0: meets the criterion. */
  excess: number;
}

export type CapacityEstimate =
  | { kind: "between"; value: number; lower: LoadPoint; upper: LoadPoint }
  | { kind: "above_highest"; highest: LoadPoint }
  | { kind: "below_lowest"; lowest: LoadPoint }
  | { kind: "unmeasured" };

/** The crossing of the criterion along levels in increasing offered load (see the module comment). */
export function findCapacity(points: readonly LoadPoint[]): CapacityEstimate {
  const first = points[0];
  if (!first) return { kind: "unmeasured" };
  const failing = points.findIndex((p) => p.excess > 0);
  if (failing === -1) return { kind: "above_highest", highest: points[points.length - 1] as LoadPoint };
  if (failing === 0) return { kind: "below_lowest", lowest: first };
  const lower = points[failing - 1] as LoadPoint;
  const upper = points[failing] as LoadPoint;
  const share = -lower.excess / (upper.excess - lower.excess);
  return { kind: "between", value: lower.load + share * (upper.load - lower.load), lower, upper };
}

/** The vLLM key of a latency percentile in a repeat's list ("p99_ttft_ms"; p50 is the median). */
function percentileKey(metric: SloMetric, percentile: number): string {
  return percentile === 50 ? `median_${metric}_ms` : `p${percentile}_${metric}_ms`;
}

function levelPercentile(level: LevelSummary, metric: SloMetric, percentile: number): number | undefined {
  const stats = level.latency[metric];
  if (!stats) return undefined;
  return percentile === 50 ? stats.median : stats[`p${percentile}` as "p90" | "p95" | "p99"];
}

/**
 * The excess of a measurement (or of the twin's prediction), or undefined when it lacks a number the
 * criterion needs.
 */
export function excessOf(
  criterion: CapacityCriterion,
  requestThroughput: number,
  requestGoodput: number | null | undefined,
  percentile: (metric: SloMetric, p: number) => number | undefined,
): number | undefined {
  if (criterion.kind === "goodput_fraction") {
    if (typeof requestGoodput !== "number" || !(requestThroughput > 0)) return undefined;
    return criterion.fraction - requestGoodput / requestThroughput;
  }
  let worst = Number.NEGATIVE_INFINITY;
  for (const [metric, limit] of Object.entries(criterion.limitsMs) as Array<[SloMetric, number]>) {
    const value = percentile(metric, criterion.percentile);
    if (value === undefined) return undefined;
    worst = Math.max(worst, value / limit - 1);
  }
  return Number.isFinite(worst) ? worst : undefined;
}

export function levelPoint(
  criterion: CapacityCriterion,
  level: LevelId,
  summary: LevelSummary,
  scale: number,
): LoadPoint | undefined {
  const excess = excessOf(criterion, summary.requestThroughput, summary.requestGoodput, (m, p) =>
    levelPercentile(summary, m, p),
  );
  return excess === undefined ? undefined : { level, load: summary.requestThroughput / scale, excess };
}

function repeatPoint(
  criterion: CapacityCriterion,
  level: LevelId,
  repeat: RepeatSummary,
  scale: number,
): LoadPoint | undefined {
  const excess = excessOf(
    criterion,
    repeat.requestThroughput,
    repeat.requestGoodput,
    (m, p) => repeat.percentilesMs?.[percentileKey(m, p)],
  );
  return excess === undefined ? undefined : { level, load: repeat.requestThroughput / scale, excess };
}

/**
 * What the latency-vs-load chart draws for one scale: per limited latency (percentile criterion) its
 * pP against load per replica, or (goodput fraction) the share of requests within every limit;
 * the limit the SLO sets on it, and the knee of the curve (knee.ts), when it has one.
 */
export interface CapacityCurve {
  metric: SloMetric | "goodput_fraction";
  limit: number;
  points: Array<{ level: LevelId; load: number; value: number }>;
  /** Index into points. */
  knee?: number;
}

export interface ScaleCapacity {
  scale: number;
  /** The measured curves the criterion judges, with their knees. */
  curves?: CapacityCurve[];
  /** Each measured level's point, in the plan's level order (the latency-vs-load curve). */
  points: LoadPoint[];
  /** From the levels' means over repeats (or their single measurement). */
  estimate: CapacityEstimate;
  /** Per-replica capacity of every repeat, when every repeat brackets it: the interval's source. */
  repeats?: Spread;
  /** Why there is no interval, when there is a capacity number but no spread. */
  noInterval?: string;
  /** C(N) / ((N / N₀) × C(N₀)), for scales above N₀ with a capacity at both. */
  efficiency?: number;
  judgement?: EfficiencyJudgement;
}

export interface CapacityTable {
  image: string;
  criterion: CapacityCriterion;
  baseScale?: number;
  scales: ScaleCapacity[];
}

/** The per-replica capacity number of a scale: the repeats' mean when they bracket it, else the estimate's. */
export function capacityValue(s: ScaleCapacity): number | undefined {
  if (s.repeats) return s.repeats.mean;
  return s.estimate.kind === "between" ? s.estimate.value : undefined;
}

export function capacityTable(
  group: ImageGroup,
  criterion: CapacityCriterion,
  tolerance: number,
): CapacityTable {
  const scales = group.scales
    .map((scale) => scaleCapacity(group, scale, criterion))
    .filter((s) => s.points.length > 0);
  const base = scales.find((s) => capacityValue(s) !== undefined);
  const table: CapacityTable = { image: group.image, criterion, scales };
  if (!base) return table;
  table.baseScale = base.scale;
  const baseValue = capacityValue(base) as number;
  for (const s of scales) {
    const value = capacityValue(s);
    if (value === undefined || s.scale === base.scale) continue;
    s.efficiency = value / baseValue;
    if (s.scale > base.scale) s.judgement = judgeEfficiency(s.efficiency, s.repeats, base.repeats, tolerance);
  }
  return table;
}

function scaleCapacity(group: ImageGroup, scale: number, criterion: CapacityCriterion): ScaleCapacity {
  const measured = group.levels.flatMap((level) => {
    const summary = cellAt(group, scale, level.key);
    return summary ? [{ level, summary }] : [];
  });
  const points = measured.flatMap(({ level, summary }) => levelPoint(criterion, level, summary, scale) ?? []);
  const result: ScaleCapacity = { scale, points, estimate: findCapacity(points) };
  const curves = capacityCurves(measured, scale, criterion);
  if (curves.length > 0) result.curves = curves;
  if (result.estimate.kind !== "between") return result;
  const perRepeat = repeatCapacities(measured, scale, criterion);
  if (typeof perRepeat === "string") result.noInterval = perRepeat;
  else {
    const spread = spreadOf(perRepeat);
    if (spread) result.repeats = spread;
  }
  return result;
}

function capacityCurves(
  measured: ReadonlyArray<{ level: LevelId; summary: LevelSummary }>,
  scale: number,
  criterion: CapacityCriterion,
): CapacityCurve[] {
  const curve = (
    metric: CapacityCurve["metric"],
    limit: number,
    measureOf: (l: LevelSummary) => number | undefined,
    // The knee is where the curve bends towards failing: up for latency, down for the good share.
    bendsUp: boolean,
  ): CapacityCurve => {
    const points = measured.flatMap(({ level, summary }) => {
      const value = measureOf(summary);
      return value === undefined ? [] : [{ level, load: summary.requestThroughput / scale, value }];
    });
    const knee = kneeIndex(points.map((p) => ({ x: p.load, y: bendsUp ? p.value : -p.value })));
    return knee === undefined ? { metric, limit, points } : { metric, limit, points, knee };
  };
  if (criterion.kind === "goodput_fraction") {
    const share = (l: LevelSummary) =>
      typeof l.requestGoodput === "number" && l.requestThroughput > 0
        ? l.requestGoodput / l.requestThroughput
        : undefined;
    return [curve("goodput_fraction", criterion.fraction, share, false)];
  }
  return (Object.entries(criterion.limitsMs) as Array<[SloMetric, number]>).map(([metric, limit]) =>
    curve(metric, limit, (l) => levelPercentile(l, metric, criterion.percentile), true),
  );
}

/** Capacity in every repeat, or why it cannot be found per repeat. */
function repeatCapacities(
  measured: ReadonlyArray<{ level: LevelId; summary: LevelSummary }>,
  scale: number,
  criterion: CapacityCriterion,
): number[] | string {
  const counts = new Set(measured.map(({ summary }) => summary.repeats?.length ?? 1));
  const count = [...counts][0] ?? 1;
  if (counts.size > 1) return "no interval: the levels were repeated different numbers of times";
  if (count < 2) return "no interval: noise not measured (repeats: 1); run with repeats ≥ 3";
  const values: number[] = [];
  for (let r = 0; r < count; r++) {
    const points = measured.map(({ level, summary }) =>
      repeatPoint(criterion, level, (summary.repeats as RepeatSummary[])[r] as RepeatSummary, scale),
    );
    if (points.some((p) => p === undefined))
      return "no interval: the result files do not list the SLO's percentiles per repeat";
    const estimate = findCapacity(points as LoadPoint[]);
    if (estimate.kind !== "between")
      return `no interval: in repeat ${r + 1} capacity is ${estimate.kind === "above_highest" ? "above the highest" : "below the lowest"} level measured`;
    values.push(estimate.value);
  }
  return values;
}

/**
 * Replicas needed to carry `targetRate` req/s at the SLO: the target over the per-replica capacity
 * of the largest scale that has one, rounded up. That extrapolates linearly from that scale, which
 * is exactly what a falling capacity efficiency warns against beyond it.
 */
export interface ReplicasNeeded {
  image: string;
  targetRate: number;
  fromScale: number;
  replicas: number;
  /** From the ends of the capacity's 95% interval (high capacity → fewer replicas). */
  range?: [number, number];
}

export function replicasNeeded(table: CapacityTable, targetRate: number): ReplicasNeeded | undefined {
  const largest = [...table.scales].reverse().find((s) => capacityValue(s) !== undefined);
  if (!largest) return undefined;
  const value = capacityValue(largest) as number;
  const needed: ReplicasNeeded = {
    image: table.image,
    targetRate,
    fromScale: largest.scale,
    replicas: Math.ceil(targetRate / value),
  };
  const spread = largest.repeats;
  if (spread && spread.ci95 > 0) {
    const low = spread.mean - spread.ci95;
    needed.range = [
      Math.ceil(targetRate / (spread.mean + spread.ci95)),
      low > 0 ? Math.ceil(targetRate / low) : Number.POSITIVE_INFINITY,
    ];
  }
  return needed;
}
