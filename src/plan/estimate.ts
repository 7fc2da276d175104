import type { Cell } from "./expand.js";
import type { Plan } from "./resolve.js";

/**
 * A rough price tag for a plan, so nobody starts 40 GPU-hours by accident. The benchmark time of
 * a closed-loop level is (requests per client ÷ concurrency) waves of one request each, and a
 * request takes TTFT + (output tokens − 1) × TPOT; both latencies are assumptions from the plan's
 * cost section, printed with the estimate. GPUs count whole nodes when the plan sizes nodes.
 */
export interface CellEstimate {
  cellId: string;
  gpus: number;
  benchmarkMinutes: number;
  totalMinutes: number;
  gpuHours: number;
}

export interface PlanEstimate {
  cells: CellEstimate[];
  totalMinutes: number;
  gpuHours: number;
  peakGpus: number;
  costUsd?: number;
  assumptions: string;
}

export function estimatePlan(plan: Plan, cells: readonly Cell[]): PlanEstimate {
  const benchmarkMinutes = benchmarkMinutesPerCell(plan);
  // The local target simulates GPUs: nothing to pay for, and services start in a second.
  const local = plan.target === "local";
  const overheadMinutes = local ? 0 : plan.cost.startup_minutes + plan.cost.teardown_minutes;
  const perCell = cells.map((cell) => {
    const gpus = local ? 0 : gpusBilled(plan, cell);
    const totalMinutes = overheadMinutes + benchmarkMinutes;
    return { cellId: cell.id, gpus, benchmarkMinutes, totalMinutes, gpuHours: (gpus * totalMinutes) / 60 };
  });
  const gpuHours = perCell.reduce((acc, c) => acc + c.gpuHours, 0);
  const estimate: PlanEstimate = {
    cells: perCell,
    totalMinutes: perCell.reduce((acc, c) => acc + c.totalMinutes, 0),
    gpuHours,
    peakGpus: Math.max(0, ...perCell.map((c) => c.gpus)),
    assumptions: local
      ? `simulated GPUs; requests take TTFT ${plan.cost.assumed_ttft_ms} ms + TPOT ${plan.cost.assumed_tpot_ms} ms per output token`
      : `${plan.cost.startup_minutes} min start-up and ${plan.cost.teardown_minutes} min teardown per service; ` +
        `requests take TTFT ${plan.cost.assumed_ttft_ms} ms + TPOT ${plan.cost.assumed_tpot_ms} ms per output token`,
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

/** Minutes of benchmarking per cell: every level with its warm-up, every repeat (the same for each cell). */
export function benchmarkMinutesPerCell(plan: Plan): number {
  const b = plan.benchmark;
  const requestSeconds =
    (plan.cost.assumed_ttft_ms + (b.output_tokens - 1) * plan.cost.assumed_tpot_ms) / 1000;
  const levels = b.mode === "concurrency" ? b.concurrency : b.request_rates;
  let seconds = 0;
  for (const level of levels) {
    const warmup = warmupRequestsAt(b, level);
    if (b.duration_s !== undefined) {
      const warmupSeconds =
        b.mode === "concurrency" ? Math.ceil(warmup / level) * requestSeconds : warmup / level;
      seconds += warmupSeconds + b.duration_s + requestSeconds;
    } else if (b.mode === "concurrency") {
      const requests = b.prompts_per_concurrency * level + warmup;
      seconds += Math.ceil(requests / level) * requestSeconds;
    } else {
      seconds += (b.num_prompts + warmup) / level + requestSeconds;
    }
  }
  return (seconds * b.repeats) / 60;
}
