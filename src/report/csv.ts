import type { LevelSummary } from "../model/types.js";
import type { ReportAnalysis } from "./analysis.js";
import { latencyValue } from "./compare.js";
import { cellAt, clientsAt } from "./input.js";
import type { ScalingPoint } from "./scaling.js";
import { warningsAt } from "./warnings.js";

/**
 * summary.csv: one row per image × scale × level, every combination the report knows of, so a
 * level or scale that was planned but not measured is a row with status "missing" and empty
 * numbers (never zeros). RFC 4180: CRLF line ends, fields quoted when they hold a comma, a quote
 * or a line break, quotes doubled. The columns are documented in docs/report.md.
 */

type Row = Record<string, string | number | undefined>;

export const CSV_COLUMNS = [
  "image",
  "runtime",
  "scale",
  "clients",
  "mode",
  "level",
  "concurrency_per_client",
  "request_rate_per_client",
  "status",
  "requests",
  "completed",
  "failed",
  "duration_s",
  "output_throughput_tok_s",
  "output_throughput_per_replica_tok_s",
  "request_throughput_req_s",
  "total_token_throughput_tok_s",
  "output_goodput_tok_s",
  "request_goodput_req_s",
  "base_scale",
  "speedup",
  "efficiency",
  "efficiency_ci95",
  "efficiency_ci95_low",
  "efficiency_ci95_high",
  "efficiency_verdict",
  "linearity_band_low",
  "linearity_band_high",
  "repeats_to_settle",
  "repeats_to_settle_low",
  "repeats_to_settle_high",
  "repeats",
  "repeats_stop",
  "output_throughput_ci95",
  "ttft_p50_ms",
  "ttft_p99_ms",
  "tpot_p50_ms",
  "tpot_p99_ms",
  "itl_p50_ms",
  "itl_p99_ms",
  "e2el_p50_ms",
  "e2el_p99_ms",
  "aggregation",
  "client_verdict",
  "warnings",
  "experiment",
] as const;

export function summaryCsv(analysis: ReportAnalysis): string {
  const lines = [CSV_COLUMNS.map(csvField).join(",")];
  analysis.input.images.forEach((group, i) => {
    const table = analysis.scaling[i];
    for (const scale of group.scales) {
      for (const level of group.levels) {
        const l = cellAt(group, scale, level.key);
        const point = table?.rows
          .find((r) => r.level.key === level.key)
          ?.points.find((p) => p.scale === scale);
        const row: Row = {
          image: group.image,
          runtime: group.runtime,
          scale,
          clients: clientsAt(group, scale),
          mode: level.mode,
          level: level.key,
          concurrency_per_client: level.mode === "concurrency" ? level.value : undefined,
          request_rate_per_client: level.mode === "request-rate" ? level.value : undefined,
          status: l ? "measured" : "missing",
          experiment:
            group.experiments
              .get(scale)
              ?.map((e) => e.dir)
              .join(" ") ?? undefined,
        };
        if (l) {
          Object.assign(row, measured(l, scale), scaling(point, table?.baseScale));
          row.warnings = [
            ...new Set(warningsAt(analysis.warnings, group.image, scale, level.key).map((w) => w.kind)),
          ].join(";");
        }
        lines.push(CSV_COLUMNS.map((c) => csvField(row[c])).join(","));
      }
    }
  });
  return `${lines.join("\r\n")}\r\n`;
}

function measured(l: LevelSummary, scale: number): Row {
  const goodput = (v: number | null | undefined) => (typeof v === "number" ? v : undefined);
  return {
    clients: l.clients,
    requests: l.numPrompts,
    completed: l.completed,
    failed: l.failed,
    duration_s: l.durationS,
    output_throughput_tok_s: l.outputThroughput,
    output_throughput_per_replica_tok_s: l.outputThroughput / scale,
    request_throughput_req_s: l.requestThroughput,
    total_token_throughput_tok_s: l.totalTokenThroughput,
    output_goodput_tok_s: goodput(l.outputGoodput),
    request_goodput_req_s: goodput(l.requestGoodput),
    repeats: l.repeats && l.repeats.length > 1 ? l.repeats.length : 1,
    repeats_stop: l.repeatsStop?.reason,
    ttft_p50_ms: latencyValue(l, "ttft_p50"),
    ttft_p99_ms: latencyValue(l, "ttft_p99"),
    tpot_p50_ms: latencyValue(l, "tpot_p50"),
    tpot_p99_ms: latencyValue(l, "tpot_p99"),
    itl_p50_ms: l.latency.itl ? (l.latency.itl.p50 ?? l.latency.itl.median) : undefined,
    itl_p99_ms: l.latency.itl?.p99,
    e2el_p50_ms: l.latency.e2el ? (l.latency.e2el.p50 ?? l.latency.e2el.median) : undefined,
    e2el_p99_ms: l.latency.e2el?.p99,
    aggregation: l.method,
    client_verdict: l.clientVerdict,
  };
}

function scaling(point: ScalingPoint | undefined, baseScale: number | undefined): Row {
  if (!point) return {};
  // Only where there is an E(N) to judge: the base scale and unmeasured points have no judgement.
  const judgement = point.judgement;
  return {
    efficiency_ci95_low: judgement?.interval?.[0],
    efficiency_ci95_high: judgement?.interval?.[1],
    efficiency_verdict: judgement?.verdict,
    linearity_band_low: judgement ? 1 - judgement.tolerance : undefined,
    linearity_band_high: judgement ? 1 + judgement.tolerance : undefined,
    repeats_to_settle: judgement?.settle?.repeats,
    repeats_to_settle_low: judgement?.settle?.low,
    repeats_to_settle_high: judgement?.settle?.high,
    base_scale: point.speedup === undefined ? undefined : baseScale,
    speedup: point.speedup,
    efficiency: point.efficiency,
    efficiency_ci95: point.efficiencyCi95,
    output_throughput_ci95: point.spread?.ci95,
  };
}

/** One RFC 4180 field. Numbers lose float noise (12 significant digits); undefined is empty. */
export function csvField(value: string | number | undefined): string {
  if (value === undefined) return "";
  const text =
    typeof value === "number" ? (Number.isFinite(value) ? String(Number(value.toPrecision(12))) : "") : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
