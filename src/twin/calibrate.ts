/**
 * `orchestrate sim calibrate`: fits a simulator profile to measured closed-loop results, one
 * runtime (image) at a time, by running the simulator's own model in virtual time and adjusting
 * four costs until its per-level medians and rates match the observed ones:
 *
 *   network_latency_ms    the part of TTFT that no load changes (round trip, TLS, proxies);
 *   prefill_ms_per_token  prompt cost, seen in TTFT and, through the steps it lengthens, in TPOT;
 *   decode_base_ms        the step's fixed cost: TPOT at light load;
 *   decode_per_seq_ms     what each running sequence adds to a step: TPOT's growth with load.
 *
 * Residuals are log ratios (predicted ÷ observed) of per-replica output throughput and median
 * TPOT (weight 1) and median TTFT (weight ½: it is the noisiest of the three in every data set we
 * have). One replica is simulated at each level's per-replica concurrency: with one client per
 * replica every replica of a scale carries the same load, which is what lets results of several
 * scales be pooled.
 */
import type { SimConfig } from "../sim/config.js";
import { parseSimConfig } from "../sim/config.js";
import { type LevelPrediction, simulateClosedLoopLevel } from "./closed-loop.js";
import { fitLeastSquares } from "./least-squares.js";
import type { ObservedLevel } from "./observations.js";
import type { LevelFit, RuntimeFit } from "./profile.js";

/**
 * The engine's token budget per step is not in the result files, and it shapes TTFT at high load
 * (prompts queue for it), so the fit tries the values vLLM uses by default (2048 in older engines
 * and some contexts, 8192 for an OpenAI server on an 80 GB GPU, 4096 between) and keeps the best.
 */
export const BATCHED_TOKEN_CANDIDATES = [2048, 4096, 8192] as const;
const TTFT_WEIGHT = 0.25;

export interface Workload {
  inputTokens: number;
  outputTokens: number;
  /** Measured requests per client at concurrency c: this × c (the seed's 10). */
  promptsPerConcurrency: number;
}

export interface FittedCosts {
  max_num_batched_tokens: number;
  network_latency_ms: number;
  prefill_ms_per_token: number;
  decode_base_ms: number;
  decode_per_seq_ms: number;
  chunk_cost_ms: number;
}

const COST_KEYS = [
  "network_latency_ms",
  "prefill_ms_per_token",
  "decode_base_ms",
  "decode_per_seq_ms",
] as const;

/** The simulator settings of one replica with these costs, as calibration and its tests run it. */
export function calibrationConfig(costs: FittedCosts, workload: Workload, maxConcurrency: number): SimConfig {
  return parseSimConfig({
    replicas: 1,
    ingress_replicas: 2,
    engine: {
      prefill_ms_per_token: costs.prefill_ms_per_token,
      decode_base_ms: costs.decode_base_ms,
      decode_per_seq_ms: costs.decode_per_seq_ms,
      max_num_batched_tokens: costs.max_num_batched_tokens,
      max_num_seqs: Math.max(256, maxConcurrency),
      kv_cache_tokens: kvLowerBound(workload, maxConcurrency),
      stream_batching_interval_ms: 0,
      enable_prefix_caching: false,
    },
    ingress: {
      network_latency_ms: costs.network_latency_ms,
      request_overhead_ms: 0,
      chunk_cost_ms: costs.chunk_cost_ms,
    },
  });
}

/** The data never shows a full KV cache, so it held at least every sequence of the busiest level. */
export function kvLowerBound(workload: Workload, maxConcurrency: number): number {
  const perSequence = workload.inputTokens + workload.outputTokens;
  return Math.max(524_288, Math.ceil((maxConcurrency * perSequence) / 65_536) * 65_536);
}

/** The load the server carried at a level (see ObservedLevel.effective_concurrency), whole. */
export function simulatedConcurrency(level: ObservedLevel): number {
  return Math.max(1, Math.round(Math.min(level.concurrency, level.effective_concurrency)));
}

/** One level on one replica: `concurrency` in flight, the nominal level's number of requests. */
export function predictCalibrationLevel(
  costs: FittedCosts,
  workload: Workload,
  concurrency: number,
  nominalConcurrency: number,
  maxConcurrency: number,
): LevelPrediction {
  return simulateClosedLoopLevel(calibrationConfig(costs, workload, maxConcurrency), {
    clients: 1,
    concurrency,
    requestsPerClient: workload.promptsPerConcurrency * nominalConcurrency,
    warmupPerClient: 0,
    inputTokens: workload.inputTokens,
    outputTokens: workload.outputTokens,
  });
}

/** Fits one runtime's costs to its observed levels. */
export function fitRuntime(
  levels: readonly ObservedLevel[],
  workload: Workload,
  budgets: readonly number[] = BATCHED_TOKEN_CANDIDATES,
): { fit: Omit<RuntimeFit, "sources" | "notes">; evaluations: number } {
  const maxConcurrency = Math.max(...levels.map((l) => l.concurrency));
  const predictAll = (costs: FittedCosts) =>
    levels.map((level) =>
      predictCalibrationLevel(
        costs,
        workload,
        simulatedConcurrency(level),
        level.concurrency,
        maxConcurrency,
      ),
    );
  let evaluations = 0;
  let best: { costs: FittedCosts; cost: number } | undefined;
  for (const budget of budgets) {
    const residualsOf = (params: number[]) => residuals(levels, predictAll(toCosts(budget, params)));
    const start = initialGuess(levels, workload);
    const result = fitLeastSquares(
      residualsOf,
      COST_KEYS.map((key) => start[key]),
    );
    evaluations += result.evaluations;
    if (!best || result.cost < best.cost) best = { costs: toCosts(budget, result.params), cost: result.cost };
  }
  const costs = best!.costs;
  const predictions = predictAll(costs);
  const levelFits: LevelFit[] = levels.map((level, i) => ({
    concurrency: level.concurrency,
    sources: level.sources,
    completed: level.completed,
    observed: {
      per_replica_output_throughput: round(level.per_replica_output_throughput, 1),
      median_ttft_ms: round(level.median_ttft_ms, 1),
      median_tpot_ms: round(level.median_tpot_ms, 2),
    },
    predicted: {
      per_replica_output_throughput: round(predictions[i]!.output_throughput, 1),
      median_ttft_ms: round(predictions[i]!.median_ttft_ms, 1),
      median_tpot_ms: round(predictions[i]!.median_tpot_ms, 2),
    },
  }));
  const r = residuals(levels, predictions);
  return {
    fit: {
      engine: {
        prefill_ms_per_token: round(costs.prefill_ms_per_token, 7),
        decode_base_ms: round(costs.decode_base_ms, 4),
        decode_per_seq_ms: round(costs.decode_per_seq_ms, 5),
        max_num_batched_tokens: costs.max_num_batched_tokens,
        kv_cache_tokens: kvLowerBound(workload, maxConcurrency),
      },
      ingress: {
        network_latency_ms: round(costs.network_latency_ms, 2),
        request_overhead_ms: 0,
        chunk_cost_ms: round(costs.chunk_cost_ms, 4),
      },
      rms_log_residual: round(Math.sqrt(r.reduce((s, v) => s + v * v, 0) / r.length), 4),
      levels: levelFits,
    },
    evaluations,
  };
}

function residuals(levels: readonly ObservedLevel[], predictions: LevelPrediction[]): number[] {
  const out: number[] = [];
  levels.forEach((level, i) => {
    const p = predictions[i]!;
    out.push(logRatio(p.output_throughput, level.per_replica_output_throughput));
    out.push(logRatio(p.median_tpot_ms, level.median_tpot_ms));
    out.push(TTFT_WEIGHT * logRatio(p.median_ttft_ms, level.median_ttft_ms));
  });
  return out;
}

function logRatio(predicted: number, observed: number): number {
  return Math.log(Math.max(predicted, 1e-9) / Math.max(observed, 1e-9));
}

/**
 * A start near the answer, from the closed-form view of a closed loop: TPOT grows about linearly
 * with the sequences running (base + c × (per-seq + prefill × in/out)), and TTFT at the lightest
 * load is latency + one step with a whole prompt in it. The split of TPOT's slope between decode
 * and prefill is a guess (half each) that the fit then corrects.
 */
function initialGuess(
  levels: readonly ObservedLevel[],
  workload: Workload,
): Omit<FittedCosts, "max_num_batched_tokens"> {
  const xs = levels.map((l) => l.concurrency);
  const ys = levels.map((l) => l.median_tpot_ms);
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  const slope = sxx > 0 ? Math.max(1e-4, xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0) / sxx) : 0.1;
  const base = Math.max(0.5, my - slope * mx);
  const perSeq = slope / 2;
  const prefill = (slope / 2) * (workload.outputTokens / workload.inputTokens);
  const lightest = levels.reduce((a, b) => (b.concurrency < a.concurrency ? b : a));
  const latency = Math.max(1, lightest.median_ttft_ms - base - prefill * workload.inputTokens);
  return {
    network_latency_ms: latency,
    prefill_ms_per_token: prefill,
    decode_base_ms: base,
    decode_per_seq_ms: perSeq,
    chunk_cost_ms: 0,
  };
}

function toCosts(budget: number, params: number[]): FittedCosts {
  const [network_latency_ms, prefill_ms_per_token, decode_base_ms, decode_per_seq_ms] = params as [
    number,
    number,
    number,
    number,
  ];
  return {
    max_num_batched_tokens: budget,
    network_latency_ms,
    prefill_ms_per_token,
    decode_base_ms,
    decode_per_seq_ms,
    // Not fitted: see the calibration notes.
    chunk_cost_ms: 0,
  };
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
