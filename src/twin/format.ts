/** Plain-text tables for `sim calibrate` (the fit's residuals) and `predict` (the twin's figures). */
import { profileLocationLabel } from "../plan/load.js";
import { formatCapacity } from "../report/capacity-view.js";
import { formatLevel } from "../report/format.js";
import type { PredictedCell, Prediction } from "./predict.js";
import type { SimProfile } from "./profile.js";

export function formatCalibration(profile: SimProfile, outPath: string): string {
  const out: string[] = [];
  for (const [runtime, fit] of Object.entries(profile.runtimes)) {
    if (!fit) continue;
    const e = fit.engine;
    out.push(
      `${runtime}  (from ${fit.sources.join(", ")})`,
      `  engine: prefill ${e.prefill_ms_per_token} ms/token, step ${e.decode_base_ms} ms + ${e.decode_per_seq_ms} ms per running sequence, ` +
        `${e.max_num_batched_tokens} tokens per step, KV ≥ ${e.kv_cache_tokens} tokens`,
      `  path:   network latency ${fit.ingress.network_latency_ms} ms, ingress ${fit.ingress.request_overhead_ms} ms/request, ${fit.ingress.chunk_cost_ms} ms/chunk`,
      "",
      table(
        [
          "conc",
          "tok/s/replica obs",
          "pred",
          "err",
          "TPOT p50 obs",
          "pred",
          "err",
          "TTFT p50 obs",
          "pred",
          "err",
        ],
        fit.levels.map((level) => [
          String(level.concurrency),
          level.observed.per_replica_output_throughput.toFixed(0),
          level.predicted.per_replica_output_throughput.toFixed(0),
          percent(
            level.predicted.per_replica_output_throughput,
            level.observed.per_replica_output_throughput,
          ),
          level.observed.median_tpot_ms.toFixed(1),
          level.predicted.median_tpot_ms.toFixed(1),
          percent(level.predicted.median_tpot_ms, level.observed.median_tpot_ms),
          level.observed.median_ttft_ms.toFixed(0),
          level.predicted.median_ttft_ms.toFixed(0),
          percent(level.predicted.median_ttft_ms, level.observed.median_ttft_ms),
        ]),
      ),
      `  rms of log residuals: ${fit.rms_log_residual}`,
      "",
    );
  }
  out.push(`Profile written to ${outPath}`);
  return out.join("\n");
}

export function formatPrediction(prediction: Prediction): string {
  const out: string[] = [
    `Plan ${prediction.plan}, predicted with the profile ${prediction.profile.name} (${profileLocationLabel(prediction.profile.path)})` +
      (prediction.profile.speedup !== 1 ? `, ${prediction.profile.speedup}× faster than measured` : ""),
  ];
  for (const cell of prediction.cells) {
    out.push(
      "",
      `${cell.id}: ${plural(cell.replicas, "LLM replica")}, ${cell.ingress_replicas} ingress, ${plural(cell.clients, "client")}; ` +
        `benchmark ${duration(cell.benchmark_s)}, with deploy and teardown ${duration(cell.duration_s)}` +
        (cell.gpu_hours > 0 ? `, ${cell.gpu_hours.toFixed(2)} GPU-hours` : ""),
      table(
        ["conc/client", "tok/s", "tok/s/replica", "TTFT p50 ms", "TTFT p99 ms", "TPOT p50 ms", "duration"],
        cell.levels.map((level) => [
          String(level.concurrency),
          level.output_throughput.toFixed(0),
          level.per_replica_output_throughput.toFixed(0),
          level.median_ttft_ms.toFixed(0),
          level.p99_ttft_ms.toFixed(0),
          level.median_tpot_ms.toFixed(1),
          duration(level.duration_s),
        ]),
      ),
      ...(cell.capacity ? [capacityLine(cell.capacity)] : []),
    );
  }
  const cost = prediction.cost_usd !== undefined ? `, ≈ $${prediction.cost_usd.toFixed(0)}` : "";
  out.push(
    "",
    `Whole run: ${duration(prediction.duration_s)}, ${prediction.gpu_hours.toFixed(1)} GPU-hours${cost}`,
    `  (assumes ${prediction.assumptions})`,
  );
  const r = prediction.repeats;
  if (r) {
    out.push(
      `Repeats until sure: each level runs ${r.min} to ${r.max} times; the times above are for ${r.max}. ` +
        `At a ${(r.expected_cv * 100).toFixed(0)}% between-repeat spread (benchmark.repeats.expected_cv) a level needs ${r.expected}: ` +
        `${duration(r.expected_duration_s)}, ${r.expected_gpu_hours.toFixed(1)} GPU-hours.`,
    );
  }
  return out.join("\n");
}

/** "capacity at p99 TTFT ≤ 500 ms: 12.3 req/s per replica, between concurrency 8 and 16". */
function capacityLine(capacity: NonNullable<PredictedCell["capacity"]>): string {
  const e = capacity.estimate;
  const where =
    e.kind === "between"
      ? ` per replica, between concurrency ${formatLevel(e.lower.level)} and ${formatLevel(e.upper.level)}`
      : e.kind === "unmeasured"
        ? " (the twin predicts no number this criterion needs)"
        : "";
  return `  capacity at ${capacity.criterion}: ${formatCapacity(e, undefined)}${where}`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padStart(widths[i]!)).join("  ")}`;
  return [line(header), ...rows.map(line)].join("\n");
}

function percent(predicted: number, observed: number): string {
  if (observed === 0) return "—";
  const value = ((predicted - observed) / observed) * 100;
  return `${value >= 0 ? "+" : ""}${value.toFixed(1)}%`;
}

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  const minutes = seconds / 60;
  if (minutes < 120) return `${minutes.toFixed(1)} min`;
  return `${Math.floor(minutes / 60)} h ${Math.round(minutes % 60)} min`;
}

function plural(n: number, word: string): string {
  return `${n} ${n === 1 ? word : `${word}s`}`;
}
