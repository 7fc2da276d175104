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
 * Residuals are log ratios (predicted ÷ observed) of per-replica output throughput (as vllm bench
 * computes it: completed tokens ÷ first send to last completion) and median
 * TPOT (weight 1) and median TTFT (weight ¼: at high load it is queueing, the noisiest figure in
 * every data set we have). One replica is simulated at each level's per-replica concurrency: with
 * one client per replica every replica of a scale carries the same load, which is what lets
 * results of several scales be pooled.
 *
 * With one workload (one prompt length), prefill and per-sequence decode cost trade off: both make
 * TPOT grow with load, and latency makes up TTFT. The fit then predicts that workload well but
 * splits the cost between them loosely. Results at a second prompt length pin the split down
 * (prefill scales with the prompt, decode does not); each level is simulated with its own lengths.
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

/** A level to simulate: its lengths, the load the server carried, and the nominal concurrency. */
export interface CalibrationLevel {
  inputTokens: number;
  outputTokens: number;
  concurrency: number;
  nominalConcurrency: number;
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
export function calibrationConfig(
  costs: FittedCosts,
  kvCacheTokens: number,
  maxConcurrency: number,
): SimConfig {
  return parseSimConfig({
    replicas: 1,
    ingress_replicas: 2,
    engine: {
      prefill_ms_per_token: costs.prefill_ms_per_token,
      decode_base_ms: costs.decode_base_ms,
      decode_per_seq_ms: costs.decode_per_seq_ms,
      max_num_batched_tokens: costs.max_num_batched_tokens,
      max_num_seqs: Math.max(256, maxConcurrency),
      kv_cache_tokens: kvCacheTokens,
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
export function kvLowerBound(
  levels: readonly { concurrency: number; inputTokens: number; outputTokens: number }[],
): number {
  const busiest = Math.max(...levels.map((l) => l.concurrency * (l.inputTokens + l.outputTokens)));
  return Math.max(524_288, Math.ceil(busiest / 65_536) * 65_536);
}

/**
 * Little's law over completed requests of a closed loop falls a little short of the nominal
 * concurrency even when nothing fails (the level ramps up and drains), so the observed figure is
 * compared with the simulator's own at the nominal concurrency: only the shortfall beyond that —
 * slots held by requests that failed — lowers the simulated load.
 */
function loadedConcurrency(level: ObservedLevel, simulated: LevelPrediction): number {
  const endToEnd = simulated.mean_ttft_ms + Math.max(0, level.outputTokens - 1) * simulated.mean_tpot_ms;
  const simulatedLittle = ((simulated.span_output_throughput / level.outputTokens) * endToEnd) / 1000;
  const ratio = simulatedLittle > 0 ? level.effective_concurrency / simulatedLittle : 1;
  return Math.max(1, Math.round(level.concurrency * Math.min(1, ratio)));
}

/** One level on one replica: `concurrency` in flight, the nominal level's number of requests. */
export function predictCalibrationLevel(
  costs: FittedCosts,
  level: CalibrationLevel,
  promptsPerConcurrency: number,
  kvCacheTokens: number,
): LevelPrediction {
  return simulateClosedLoopLevel(calibrationConfig(costs, kvCacheTokens, level.nominalConcurrency), {
    clients: 1,
    concurrency: level.concurrency,
    requestsPerClient: promptsPerConcurrency * level.nominalConcurrency,
    warmupPerClient: 0,
    inputTokens: level.inputTokens,
    outputTokens: level.outputTokens,
  });
}

/** Fits one runtime's costs to its observed levels. */
export function fitRuntime(
  levels: readonly ObservedLevel[],
  promptsPerConcurrency: number,
  budgets: readonly number[] = BATCHED_TOKEN_CANDIDATES,
): { fit: Omit<RuntimeFit, "sources" | "notes">; evaluations: number } {
  const kvCacheTokens = kvLowerBound(levels);
  const guesses = initialGuesses(levels);
  const middle = guesses[Math.floor(guesses.length / 2)]!;
  const predictAt = (costs: FittedCosts, concurrency: (level: ObservedLevel, i: number) => number) =>
    levels.map((level, i) =>
      predictCalibrationLevel(
        costs,
        { ...level, concurrency: concurrency(level, i), nominalConcurrency: level.concurrency },
        promptsPerConcurrency,
        kvCacheTokens,
      ),
    );
  const nominal = predictAt(
    toCosts(
      BATCHED_TOKEN_CANDIDATES[0],
      COST_KEYS.map((key) => middle[key]),
    ),
    (l) => l.concurrency,
  );
  const loaded = levels.map((level, i) => loadedConcurrency(level, nominal[i]!));
  const predictAll = (costs: FittedCosts) => predictAt(costs, (_, i) => loaded[i]!);
  let evaluations = 1;
  const fitFrom = (budget: number, guess: Omit<FittedCosts, "max_num_batched_tokens">) => {
    const residualsOf = (params: number[]) => residuals(levels, predictAll(toCosts(budget, params)));
    const result = fitLeastSquares(
      residualsOf,
      COST_KEYS.map((key) => guess[key]),
    );
    evaluations += result.evaluations;
    return { costs: toCosts(budget, result.params), cost: result.cost };
  };
  const better = <T extends { cost: number }>(a: T, b: T) => (b.cost < a.cost ? b : a);
  // TPOT's growth with load can be bought with decode or with prefill cost, and the simulated
  // medians are rough in between, so one start can stop in a dent. The budget is chosen from the
  // middle start; then a fit from each other split, keeping the best, finds the valley.
  let best = budgets.map((budget) => fitFrom(budget, middle)).reduce(better);
  for (const guess of guesses.filter((g) => g !== middle)) {
    best = better(best, fitFrom(best.costs.max_num_batched_tokens, guess));
  }
  const costs = best.costs;
  const predictions = predictAll(costs);
  const levelFits: LevelFit[] = levels.map((level, i) => ({
    concurrency: level.concurrency,
    input_tokens: level.inputTokens,
    output_tokens: level.outputTokens,
    sources: level.sources,
    completed: level.completed,
    observed: {
      per_replica_output_throughput: round(level.per_replica_output_throughput, 1),
      median_ttft_ms: round(level.median_ttft_ms, 1),
      median_tpot_ms: round(level.median_tpot_ms, 2),
    },
    predicted: {
      per_replica_output_throughput: round(predictions[i]!.span_output_throughput, 1),
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
        kv_cache_tokens: kvCacheTokens,
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
    out.push(logRatio(p.span_output_throughput, level.per_replica_output_throughput));
    out.push(logRatio(p.median_tpot_ms, level.median_tpot_ms));
    out.push(TTFT_WEIGHT * logRatio(p.median_ttft_ms, level.median_ttft_ms));
  });
  return out;
}

function logRatio(predicted: number, observed: number): number {
  return Math.log(Math.max(predicted, 1e-9) / Math.max(observed, 1e-9));
}

/**
 * Starts near the answer, from the closed-form view of a closed loop: TPOT grows about linearly
 * with the sequences running (base + c × (per-seq + prefill × in/out)), and TTFT at the lightest
 * load is latency + one step with a whole prompt in it. How TPOT's slope splits between decode and
 * prefill is what the starts vary.
 */
function initialGuesses(
  levels: readonly ObservedLevel[],
): Array<Omit<FittedCosts, "max_num_batched_tokens">> {
  const xs = levels.map((l) => l.concurrency);
  const ys = levels.map((l) => l.median_tpot_ms);
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  const slope = sxx > 0 ? Math.max(1e-4, xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0) / sxx) : 0.1;
  const base = Math.max(0.5, my - slope * mx);
  const lightest = levels.reduce((a, b) => (b.concurrency < a.concurrency ? b : a));
  const ratio = lightest.outputTokens / lightest.inputTokens;
  return [0.2, 0.5, 0.8].map((prefillShare) => {
    const prefill = slope * prefillShare * ratio;
    return {
      network_latency_ms: Math.max(1, lightest.median_ttft_ms - base - prefill * lightest.inputTokens),
      prefill_ms_per_token: prefill,
      decode_base_ms: base,
      decode_per_seq_ms: slope * (1 - prefillShare),
      chunk_cost_ms: 0,
    };
  });
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
