import { basename } from "node:path";
import { tQuantile95 } from "../model/spread.js";
import type { Cell } from "./expand.js";
import { profileLocationLabel } from "./load.js";
import type { Plan } from "./resolve.js";

/**
 * A price tag for a plan, so nobody starts 40 GPU-hours by accident: per cell, the start-up and
 * teardown assumptions of the plan's cost section plus the benchmark time. How long closed-loop
 * levels take depends on the service, so that time comes from a prediction (`predict`, with the
 * plan's simulator profile); levels whose length the plan fixes (a duration, or a request rate)
 * need none. GPUs count whole nodes when the plan sizes nodes.
 */
export interface CellEstimate {
  cellId: string;
  gpus: number;
  /** Undefined when the plan's levels depend on the service and no prediction was given. */
  benchmarkMinutes: number | undefined;
  totalMinutes: number;
  gpuHours: number;
}

export interface PlanEstimate {
  cells: CellEstimate[];
  totalMinutes: number;
  gpuHours: number;
  peakGpus: number;
  costUsd?: number;
  /** False when benchmark time is left out (see CellEstimate.benchmarkMinutes). */
  benchmarkKnown: boolean;
  assumptions: string;
  /** Repeats until sure: the estimate above prices the most repeats; this, the expected count. */
  expected?: ExpectedRepeats;
}

export interface ExpectedRepeats {
  min: number;
  max: number;
  /** The repeats a level needs at the assumed spread (benchmark.repeats.expected_cv). */
  repeats: number;
  expectedCv: number;
  totalMinutes: number;
  gpuHours: number;
  costUsd?: number;
}

/**
 * Repeats a level needs before its throughput interval is within ±target_ci, if the between-repeat
 * spread is `expected_cv`: the smallest n ≥ min with t(n − 1) × cv / √n ≤ target_ci, at most max.
 * At 5% and ±3% that is 14, more than `auto`'s 10: there a level is expected to run to its maximum;
 * at 3%, 7.
 */
export function expectedRepeats(b: Plan["benchmark"]): number {
  const target = b.repeats_target;
  if (!target) return b.repeats;
  for (let n = target.min; n < b.repeats; n++) {
    if ((tQuantile95(n - 1) * target.expected_cv) / Math.sqrt(n) <= target.target_ci) return n;
  }
  return b.repeats;
}

/** A cell's predicted benchmark time (every level and repeat). */
export interface CellTime {
  cellId: string;
  benchmarkSeconds: number;
}

export function estimatePlan(
  plan: Plan,
  cells: readonly Cell[],
  predicted?: readonly CellTime[],
): PlanEstimate {
  const estimate = estimateAt(plan, cells, predicted, 1);
  const target = plan.benchmark.repeats_target;
  if (target) {
    // Benchmark time is proportional to the repeats; start-up and teardown are not.
    const repeats = expectedRepeats(plan.benchmark);
    const at = estimateAt(plan, cells, predicted, repeats / plan.benchmark.repeats);
    estimate.expected = {
      min: target.min,
      max: plan.benchmark.repeats,
      repeats,
      expectedCv: target.expected_cv,
      totalMinutes: at.totalMinutes,
      gpuHours: at.gpuHours,
      ...(at.costUsd !== undefined ? { costUsd: at.costUsd } : {}),
    };
  }
  return estimate;
}

/** The estimate with the benchmark time scaled by `repeatsScale` (1: the plan's repeats). */
function estimateAt(
  plan: Plan,
  cells: readonly Cell[],
  predicted: readonly CellTime[] | undefined,
  repeatsScale: number,
): PlanEstimate {
  const fixedMinutes = fixedBenchmarkMinutes(plan);
  // The local target simulates GPUs: nothing to pay for, and services start in a second.
  const local = plan.target === "local";
  const overheadMinutes = local ? 0 : plan.cost.startup_minutes + plan.cost.teardown_minutes;
  const perCell = cells.map((cell): CellEstimate => {
    const gpus = local ? 0 : gpusBilled(plan, cell);
    const seconds = predicted?.find((p) => p.cellId === cell.id)?.benchmarkSeconds;
    const full = seconds !== undefined ? seconds / 60 : fixedMinutes;
    const benchmarkMinutes = full === undefined ? undefined : full * repeatsScale;
    const totalMinutes = overheadMinutes + (benchmarkMinutes ?? 0);
    return { cellId: cell.id, gpus, benchmarkMinutes, totalMinutes, gpuHours: (gpus * totalMinutes) / 60 };
  });
  const gpuHours = perCell.reduce((acc, c) => acc + c.gpuHours, 0);
  const benchmarkKnown = perCell.every((c) => c.benchmarkMinutes !== undefined);
  const timing = !benchmarkKnown
    ? plan.benchmark.mode === "replay"
      ? "benchmark time NOT included: a replay lasts its trace's duration ÷ (speed × clients) per level, which the run reads from the trace"
      : "benchmark time NOT included: closed-loop levels last as long as the service takes, so name a simulator profile (model.profile) to predict it"
    : predicted
      ? `benchmark time predicted with the simulator profile ${plan.model.profile ? `${basename(plan.model.profile, ".json")} (${profileLocationLabel(plan.model.profile)})` : "given"}`
      : "benchmark time as the plan fixes it";
  // A containerfile deploy builds the image inside `service deploy`, once per service: the start-up
  // figure must cover that build, and the reader should know that it is not a separate step.
  const buildsAtDeploy = cells.some((c) => !c.image.image_uri && c.image.build === "containerfile");
  const startup = `${plan.cost.startup_minutes} min start-up${buildsAtDeploy ? " (which includes the image build inside each containerfile deploy)" : ""}`;
  const estimate: PlanEstimate = {
    cells: perCell,
    totalMinutes: perCell.reduce((acc, c) => acc + c.totalMinutes, 0),
    gpuHours,
    peakGpus: Math.max(0, ...perCell.map((c) => c.gpus)),
    benchmarkKnown,
    assumptions: local
      ? `simulated GPUs; ${timing}`
      : `${startup} and ${plan.cost.teardown_minutes} min teardown per service; ${timing}`,
  };
  if (plan.cost.gpu_hour_usd !== undefined) estimate.costUsd = gpuHours * plan.cost.gpu_hour_usd;
  return estimate;
}

/** Whole nodes are billed, not just the GPUs the replicas use. */
function gpusBilled(plan: Plan, cell: Cell): number {
  const perNode = plan.compute.gpus_per_node;
  return cell.workerNodes !== undefined && perNode !== undefined ? cell.workerNodes * perNode : cell.gpus;
}

/** Warm-up requests per client at a level: the plan's count, or one wave (= concurrency) by default. */
export function warmupRequestsAt(b: Plan["benchmark"], level: number): number {
  if (b.warmup_requests !== undefined) return b.warmup_requests;
  return b.mode === "concurrency" ? level : 0;
}

/**
 * Minutes of benchmarking per cell when the plan fixes them: levels of a set duration, or
 * request-rate levels (num_prompts ÷ rate, as scheduled; the last requests' own time is left out).
 * Undefined for closed-loop levels counted in requests, which only a prediction can time.
 */
export function fixedBenchmarkMinutes(plan: Plan): number | undefined {
  const b = plan.benchmark;
  // A replay lasts as long as its trace, which only the run reads.
  if (b.mode === "replay") return undefined;
  const levels = b.mode === "concurrency" ? b.concurrency : b.request_rates;
  let seconds = 0;
  for (const level of levels) {
    if (b.duration_s !== undefined) seconds += b.duration_s;
    else if (b.mode === "request-rate") seconds += (b.num_prompts + warmupRequestsAt(b, level)) / level;
    else return undefined;
  }
  return (seconds * b.repeats) / 60;
}
