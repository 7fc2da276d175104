/**
 * `orchestrate predict`: the plan's cells through the simulator's model in virtual time, level by
 * level, as the load generator would run them (closed loop, per-client concurrency, prompts per
 * level, warm-up, repeats, one client process per `clients`), plus the time and money around them.
 */
import { UserError } from "../errors.js";
import { meanLength } from "../model/lengths.js";
import { levelKey } from "../model/level-key.js";
import { type CellTime, estimatePlan, type PlanEstimate, warmupRequestsAt } from "../plan/estimate.js";
import type { Cell } from "../plan/expand.js";
import type { Plan } from "../plan/resolve.js";
import {
  type CapacityCriterion,
  type CapacityEstimate,
  capacityCriterion,
  describeCriterion,
  excessOf,
  findCapacity,
  type LoadPoint,
} from "../report/capacity.js";
import { effectiveSpeedup, simConfigForCell } from "./cell-config.js";
import { type LevelPrediction, simulateClosedLoopLevel } from "./closed-loop.js";
import { readSimProfile, runtimeFit, type SimProfile } from "./profile.js";

export interface PredictedLevel extends LevelPrediction {
  concurrency: number;
  per_replica_output_throughput: number;
}

export interface PredictedCell {
  id: string;
  image: string;
  runtime: "oss" | "turbo";
  replicas: number;
  clients: number;
  ingress_replicas: number;
  levels: PredictedLevel[];
  /**
   * With a capacity criterion in benchmark.slo: where the twin puts this cell's capacity per replica
   * among the plan's levels (report/capacity.ts's method on the predicted levels), so levels can be
   * chosen around it.
   */
  capacity?: { criterion: string; estimate: CapacityEstimate };
  /** Benchmark time: every level, every repeat. */
  benchmark_s: number;
  /** Benchmark time plus the deploy and teardown assumptions. */
  duration_s: number;
  gpu_hours: number;
}

export interface Prediction {
  plan: string;
  profile: { path: string; name: string; speedup: number };
  cells: PredictedCell[];
  duration_s: number;
  gpu_hours: number;
  cost_usd?: number;
  /** What the time and cost assume besides the profile. */
  assumptions: string;
  /**
   * Repeats until sure: the times above are for the most repeats (`max`); these, for the count a
   * level is expected to need at the spread the plan assumes.
   */
  repeats?: {
    min: number;
    max: number;
    expected: number;
    expected_cv: number;
    expected_duration_s: number;
    expected_gpu_hours: number;
  };
}

/** Reads the profile the plan names (or `profilePath`) and predicts every cell. */
export async function predictPlanFromFiles(
  plan: Plan,
  cells: readonly Cell[],
  profilePath?: string,
): Promise<Prediction> {
  const path = profilePath ?? plan.model.profile;
  if (!path) {
    throw new UserError(`the plan ${plan.name} names no simulator profile`, {
      hint: "set model.profile in the plan (a shipped profile's name, e.g. gpt-oss-120b-tp4-h100, or a path) or pass --profile FILE",
    });
  }
  return predictPlan(plan, cells, await readSimProfile(path), path);
}

export function predictPlan(
  plan: Plan,
  cells: readonly Cell[],
  profile: SimProfile,
  profilePath: string,
): Prediction {
  const b = plan.benchmark;
  if (b.mode !== "concurrency") {
    throw new UserError("predict models closed-loop levels only (benchmark.mode: concurrency)", {
      hint: "request-rate levels last num_prompts ÷ rate whatever the service does; the dry run counts them that way",
    });
  }
  if (b.dataset) {
    throw new UserError("predict models synthetic prompts only, not benchmark.dataset", {
      hint: "the twin would price every request at input_tokens/output_tokens, not the dataset's lengths",
    });
  }
  if (b.duration_s !== undefined) {
    throw new UserError("predict needs a number of requests per level, not benchmark.duration_s", {
      hint: "a level of fixed duration lasts that long; use prompts_per_concurrency to predict one",
    });
  }
  const predicted = cells.map((cell) => predictCell(plan, cell, profile, profilePath));
  const times: CellTime[] = predicted.map((c) => ({ cellId: c.id, benchmarkSeconds: c.benchmark_s }));
  const estimate = estimatePlan(plan, cells, times);
  return withEstimate(plan, profile, profilePath, predicted, estimate);
}

function predictCell(plan: Plan, cell: Cell, profile: SimProfile, profilePath: string): PredictedCell {
  const b = plan.benchmark;
  const config = simConfigForCell(plan, cell, runtimeFit(profile, cell.image.runtime, profilePath));
  const levels = b.concurrency.map((concurrency): PredictedLevel => {
    const level = simulateClosedLoopLevel(config, {
      ...(b.slo ? { slo: perRequestLimits(b.slo) } : {}),
      clients: cell.scale.clients,
      concurrency,
      requestsPerClient: b.prompts_per_concurrency * concurrency,
      warmupPerClient: warmupRequestsAt(b, concurrency),
      // The twin runs one length per level: a distribution's mean (its spread is not modelled).
      inputTokens: Math.round(meanLength(b.input_tokens)),
      outputTokens: Math.round(meanLength(b.output_tokens)),
    });
    return {
      concurrency,
      ...level,
      per_replica_output_throughput: level.output_throughput / cell.scale.replicas,
    };
  });
  const benchmark = levels.reduce((sum, level) => sum + level.duration_s, 0) * b.repeats;
  const criterion = capacityCriterion(
    b.slo ? { ...perRequestLimits(b.slo), ...capacityKeys(b.slo) } : undefined,
  );
  const predicted: PredictedCell = {
    id: cell.id,
    image: cell.image.name,
    runtime: cell.image.runtime,
    replicas: cell.scale.replicas,
    clients: cell.scale.clients,
    ingress_replicas: cell.scale.ingress_replicas,
    levels,
    benchmark_s: benchmark,
    duration_s: benchmark,
    gpu_hours: 0,
  };
  if (criterion) {
    const capacity = predictedCapacity(criterion, levels, cell.scale.replicas, meanLength(b.output_tokens));
    predicted.capacity = { criterion: describeCriterion(criterion), estimate: capacity };
  }
  return predicted;
}

type PlanSlo = NonNullable<Plan["benchmark"]["slo"]>;

function perRequestLimits(slo: PlanSlo): { ttftMs?: number; tpotMs?: number; e2elMs?: number } {
  const limits: { ttftMs?: number; tpotMs?: number; e2elMs?: number } = {};
  if (slo.ttft_ms !== undefined) limits.ttftMs = slo.ttft_ms;
  if (slo.tpot_ms !== undefined) limits.tpotMs = slo.tpot_ms;
  if (slo.e2el_ms !== undefined) limits.e2elMs = slo.e2el_ms;
  return limits;
}

function capacityKeys(slo: PlanSlo): { percentile?: 50 | 90 | 95 | 99; goodputFraction?: number } {
  if (slo.percentile !== undefined) return { percentile: slo.percentile };
  return slo.goodput_fraction !== undefined ? { goodputFraction: slo.goodput_fraction } : {};
}

/**
 * The report's capacity method on the twin's levels. Every predicted request has the plan's output
 * length, so the window's request throughput is its output throughput ÷ output_tokens.
 */
function predictedCapacity(
  criterion: CapacityCriterion,
  levels: readonly PredictedLevel[],
  replicas: number,
  outputTokens: number,
): CapacityEstimate {
  const points = levels.flatMap((level): LoadPoint[] => {
    const requestThroughput = level.output_throughput / outputTokens;
    const goodput = level.good_fraction === undefined ? undefined : level.good_fraction * requestThroughput;
    const excess = excessOf(
      criterion,
      requestThroughput,
      goodput,
      (metric, p) => level.percentiles_ms[p === 50 ? `median_${metric}_ms` : `p${p}_${metric}_ms`],
    );
    if (excess === undefined) return [];
    const id = {
      mode: "concurrency" as const,
      value: level.concurrency,
      key: levelKey("concurrency", level.concurrency),
    };
    return [{ level: id, load: requestThroughput / replicas, excess }];
  });
  return findCapacity(points);
}

function withEstimate(
  plan: Plan,
  profile: SimProfile,
  profilePath: string,
  cells: PredictedCell[],
  estimate: PlanEstimate,
): Prediction {
  for (const cell of cells) {
    const cellEstimate = estimate.cells.find((c) => c.cellId === cell.id)!;
    cell.duration_s = cellEstimate.totalMinutes * 60;
    cell.gpu_hours = cellEstimate.gpuHours;
  }
  const prediction: Prediction = {
    plan: plan.name,
    profile: { path: profilePath, name: profile.name, speedup: effectiveSpeedup(plan) },
    cells,
    duration_s: estimate.totalMinutes * 60,
    gpu_hours: estimate.gpuHours,
    assumptions: estimate.assumptions,
  };
  if (estimate.costUsd !== undefined) prediction.cost_usd = estimate.costUsd;
  if (estimate.expected) {
    prediction.repeats = {
      min: estimate.expected.min,
      max: estimate.expected.max,
      expected: estimate.expected.repeats,
      expected_cv: estimate.expected.expectedCv,
      expected_duration_s: estimate.expected.totalMinutes * 60,
      expected_gpu_hours: estimate.expected.gpuHours,
    };
  }
  return prediction;
}

/**
 * The prediction for a run of the plan, or undefined when there is nothing to predict with (no
 * profile) or nothing a closed-loop twin can predict (request-rate or fixed-duration levels).
 */
export async function predictionForRun(plan: Plan, cells: readonly Cell[]): Promise<Prediction | undefined> {
  const b = plan.benchmark;
  if (!plan.model.profile || b.mode !== "concurrency" || b.duration_s !== undefined || b.dataset)
    return undefined;
  return predictPlanFromFiles(plan, cells);
}

export function cellTimes(prediction: Prediction): CellTime[] {
  return prediction.cells.map((c) => ({ cellId: c.id, benchmarkSeconds: c.benchmark_s }));
}
