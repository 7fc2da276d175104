import { z } from "zod";
import { readJsonFile } from "../json-file.js";
import type { LatencyMetric, LatencyStats } from "./types.js";

/**
 * One `vllm bench serve --save-result` file. Only the keys we read are declared; everything else
 * (and our own extra keys) passes through untouched. vLLM writes null for unset values.
 */
const num = z.number().nullable().optional();

export const vllmResultSchema = z.looseObject({
  date: z.string().optional(),
  backend: z.string().optional(),
  model_id: z.string().optional(),
  num_prompts: z.number().int().nonnegative(),
  request_rate: z
    .union([z.number(), z.literal("inf")])
    .nullable()
    .optional(),
  burstiness: num,
  max_concurrency: z.number().int().positive().nullable().optional(),
  duration: z.number().nonnegative(),
  completed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative().optional(),
  total_input_tokens: num,
  total_output_tokens: num,
  request_throughput: z.number(),
  request_goodput: num,
  output_throughput: z.number(),
  total_token_throughput: num,
  max_output_tokens_per_s: num,
  max_concurrent_requests: num,
});

export type VllmResult = z.infer<typeof vllmResultSchema>;

export async function readVllmResult(path: string): Promise<VllmResult> {
  return readJsonFile(path, vllmResultSchema, "a vLLM benchmark result");
}

/** vLLM names percentile keys "p99_ttft_ms", "p99.9_ttft_ms". */
export function percentileKey(percentile: number, metric: LatencyMetric): string {
  return `p${percentile}_${metric}_ms`;
}

function numberAt(result: Record<string, unknown>, key: string): number | undefined {
  const value = result[key];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** The statistics of one latency metric, or undefined when the file does not have them. */
export function latencyFromVllm(
  result: Record<string, unknown>,
  metric: LatencyMetric,
): LatencyStats | undefined {
  const mean = numberAt(result, `mean_${metric}_ms`);
  const median = numberAt(result, `median_${metric}_ms`);
  const std = numberAt(result, `std_${metric}_ms`);
  const p99 = numberAt(result, percentileKey(99, metric));
  if (mean === undefined || median === undefined || p99 === undefined) return undefined;
  const stats: LatencyStats = { mean, median, std: std ?? 0, p99 };
  const p50 = numberAt(result, percentileKey(50, metric));
  const p90 = numberAt(result, percentileKey(90, metric));
  const p95 = numberAt(result, percentileKey(95, metric));
  const p999 = numberAt(result, percentileKey(99.9, metric));
  if (p50 !== undefined) stats.p50 = p50;
  if (p90 !== undefined) stats.p90 = p90;
  if (p95 !== undefined) stats.p95 = p95;
  if (p999 !== undefined) stats.p99_9 = p999;
  return stats;
}

/** The inverse: the vLLM keys for one metric's statistics. */
export function latencyToVllm(metric: LatencyMetric, stats: LatencyStats): Record<string, number> {
  const out: Record<string, number> = {
    [`mean_${metric}_ms`]: stats.mean,
    [`median_${metric}_ms`]: stats.median,
    [`std_${metric}_ms`]: stats.std,
  };
  if (stats.p50 !== undefined) out[percentileKey(50, metric)] = stats.p50;
  if (stats.p90 !== undefined) out[percentileKey(90, metric)] = stats.p90;
  if (stats.p95 !== undefined) out[percentileKey(95, metric)] = stats.p95;
  out[percentileKey(99, metric)] = stats.p99;
  if (stats.p99_9 !== undefined) out[percentileKey(99.9, metric)] = stats.p99_9;
  return out;
}
