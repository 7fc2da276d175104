import { mean, spreadOf } from "../model/spread.js";
import type { DataWarning } from "../model/types.js";
import type { LevelAggregate } from "./aggregate.js";
import { allPartsResultJson, type LevelContext } from "./formats.js";

/**
 * The top-level `all-parts/KEY.json` of a level that ran in several repeats: one vLLM-shaped file
 * whose throughputs are the mean over the repeats (each repeat's own window throughput, from
 * `repeatR/all-parts/KEY.json`), with the repeats listed and a Student-t interval of the mean.
 * Latency percentiles are pooled from every repeat's raw samples (`pooled`), never averaged.
 * Counts (requests, tokens, failures) add up over the repeats.
 */

/** The numbers of one repeat that the combined file lists (`repeats[]`). */
const REPEAT_KEYS = [
  "output_throughput",
  "request_throughput",
  "total_token_throughput",
  "request_goodput",
  "output_goodput",
  // Every percentile an SLO's capacity criterion may hold a latency to (report/capacity.ts), so
  // capacity can be found per repeat and given an interval.
  ...["ttft", "tpot", "e2el"].flatMap((m) => [`median_${m}_ms`, `p90_${m}_ms`, `p95_${m}_ms`, `p99_${m}_ms`]),
  "duration",
  "completed",
  "failed",
] as const;

/** Keys whose value over the repeats is their mean. */
const MEAN_KEYS = [
  "output_throughput",
  "request_throughput",
  "total_token_throughput",
  "request_goodput",
  "output_goodput",
  "duration",
  "achieved_concurrency",
  "achieved_concurrency_per_client",
  "achieved_rate",
] as const;

export interface RepeatResult {
  repeat: number;
  /** That repeat's all-parts JSON. */
  json: Record<string, unknown>;
}

export function combinedRepeatsJson(
  pooled: LevelAggregate,
  context: LevelContext,
  repeats: readonly RepeatResult[],
): Record<string, unknown> {
  const out = allPartsResultJson(pooled, context, []);
  // The pooled aggregate's window spans different repeats' time lines: only its samples and
  // counts mean something here, so its window numbers go.
  for (const key of ["in_window", "window", "span_s", "steadiness", "clients", "max_concurrent_requests"])
    delete out[key];
  for (const key of MEAN_KEYS) {
    const values = repeats.map((r) => r.json[key]).filter((v): v is number => typeof v === "number");
    out[key] = values.length === repeats.length && values.length > 0 ? mean(values) : (out[key] ?? null);
  }
  // Every repeat ran the same clients; the pooled aggregate was given no part files, so take theirs.
  out.parts = Math.max(...repeats.map((r) => numberOr(r.json.parts, 0)));
  out.max_output_tokens_per_s = Math.max(...repeats.map((r) => numberOr(r.json.max_output_tokens_per_s, 0)));
  out.method = "window_repeats";
  out.repeat_count = repeats.length;
  out.repeats = repeats.map(({ repeat, json }) => {
    const entry: Record<string, unknown> = { repeat };
    for (const key of REPEAT_KEYS) entry[key] = json[key] ?? null;
    const steadiness = json.steadiness as { verdict?: unknown } | null | undefined;
    entry.steadiness = typeof steadiness?.verdict === "string" ? steadiness.verdict : null;
    entry.window_s = (json.window as { length_s?: unknown } | undefined)?.length_s ?? null;
    return entry;
  });
  const throughputs = repeats.map((r) => numberOr(r.json.output_throughput, Number.NaN));
  const spread = throughputs.every(Number.isFinite) ? spreadOf(throughputs) : undefined;
  out.output_throughput_ci95 = spread ? [spread.mean - spread.ci95, spread.mean + spread.ci95] : null;
  out.output_throughput_std = spread ? spread.std : null;
  out.client_verdict = repeats.some((r) => r.json.client_verdict === "client_bound") ? "client_bound" : "ok";
  out.warnings = repeats.flatMap(({ repeat, json }) =>
    (Array.isArray(json.warnings) ? (json.warnings as DataWarning[]) : []).map((w) => ({
      ...w,
      message: inRepeat(w, repeat),
    })),
  );
  return out;
}

/** "conc16: 3 of 80 requests failed" → "conc16: repeat 2: 3 of 80 requests failed". */
function inRepeat(warning: DataWarning, repeat: number): string {
  const prefix = warning.level ? `${warning.level}: ` : "";
  return prefix && warning.message.startsWith(prefix)
    ? `${prefix}repeat ${repeat}: ${warning.message.slice(prefix.length)}`
    : `repeat ${repeat}: ${warning.message}`;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === "number" ? value : fallback;
}
