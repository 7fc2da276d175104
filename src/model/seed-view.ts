import { exactMean } from "./exact-mean.js";

/**
 * The seed project's aggregation (aggregate_results.py), reproduced exactly: metadata from the
 * first part, throughputs and counts summed, latency statistics and duration averaged. It is
 * kept so users can compare with their old numbers, and because it is all that can be done with
 * vLLM files that carry no raw samples. It is not how orchestrate aggregates its own runs: summed
 * rates over-count when the parts' windows drift, and averaged p99s are not a p99.
 */

const METADATA_FIELDS = [
  "date",
  "endpoint_type",
  "backend",
  "label",
  "model_id",
  "tokenizer_id",
  "num_prompts",
  "request_rate",
  "burstiness",
  "max_concurrency",
] as const;

export const SEED_SUMMED_FIELDS = [
  "completed",
  "total_input_tokens",
  "total_output_tokens",
  "request_throughput",
  "output_throughput",
  "total_token_throughput",
  "max_output_tokens_per_s",
  "max_concurrent_requests",
  "num_prompts",
] as const;

export const SEED_AVERAGED_FIELDS = [
  "duration",
  "mean_ttft_ms",
  "median_ttft_ms",
  "std_ttft_ms",
  "p99_ttft_ms",
  "mean_tpot_ms",
  "median_tpot_ms",
  "std_tpot_ms",
  "p99_tpot_ms",
  "mean_itl_ms",
  "median_itl_ms",
  "std_itl_ms",
  "p99_itl_ms",
] as const;

type Json = Record<string, unknown>;

/** Parts must be in part order (part1, part2, …): float sums depend on the order, as in Python. */
export function aggregateLikeSeed(parts: readonly Json[]): Json {
  const first = parts[0];
  if (!first) throw new RangeError("nothing to aggregate");
  const out: Json = {};
  for (const field of METADATA_FIELDS) out[field] = first[field] ?? null;
  for (const field of SEED_SUMMED_FIELDS) {
    const values = numbersOf(parts, field);
    // Python's sum() starts from the integer 0 and adds left to right; so do we.
    if (values.length > 0) out[field] = values.reduce((acc, v) => acc + v, 0);
  }
  for (const field of SEED_AVERAGED_FIELDS) {
    const values = numbersOf(parts, field);
    if (values.length > 0) out[field] = exactMean(values);
  }
  out.request_goodput = first.request_goodput ?? null;
  return out;
}

function numbersOf(parts: readonly Json[], field: string): number[] {
  return parts.map((p) => p[field]).filter((v): v is number => typeof v === "number");
}
