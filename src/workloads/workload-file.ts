import type { WorkloadFileFacts } from "../model/types.js";
import { type DatasetFormat, type DatasetSummary, datasetSource, scanDataset } from "./dataset.js";
import type { ShapeSource } from "./request-shape.js";
import { scanTrace, type TraceFormat, type TracePart, type TraceSummary, tracePart } from "./trace.js";

/**
 * A benchmark's workload file, whichever kind: checked whole once before anything starts
 * (`scanWorkloadFile`), then read by each client for the rows it sends (`loadWorkloadFile`).
 */

export type WorkloadFileSpec =
  | { kind: "dataset"; format: DatasetFormat; path: string }
  | { kind: "trace"; format: TraceFormat; path: string };

/** What the results record of the file (experiment.json `workload_file`, docs/workloads.md). */
export type WorkloadFileRecord = WorkloadFileFacts;

export interface WorkloadLimits {
  /** Answer length of dataset rows that give none. */
  outputTokens: number;
  maxModelLen?: number;
}

export async function scanWorkloadFile(
  spec: WorkloadFileSpec,
  limits: WorkloadLimits,
): Promise<WorkloadFileRecord> {
  const summary: DatasetSummary | TraceSummary =
    spec.kind === "dataset"
      ? await scanDataset({ format: spec.format, path: spec.path }, limits)
      : await scanTrace({ format: spec.format, path: spec.path }, limits.maxModelLen);
  const { lengths } = summary;
  return {
    kind: spec.kind,
    format: summary.format,
    path: summary.path,
    bytes: summary.bytes,
    sha256: summary.sha256,
    rows: summary.rows,
    ...("skipped" in summary ? { skipped: summary.skipped } : {}),
    ...("durationMs" in summary ? { duration_ms: summary.durationMs } : {}),
    mean_input_tokens: round1(lengths.meanInputTokens),
    mean_output_tokens: round1(lengths.meanOutputTokens),
    max_output_tokens: lengths.maxOutputTokens,
  };
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/** The rows one client sends, loaded once for every level. */
export type LoadedWorkload = { kind: "dataset"; shapes: ShapeSource } | { kind: "trace"; part: TracePart };

export async function loadWorkloadFile(
  file: WorkloadFileRecord,
  limits: WorkloadLimits,
  where: { part: number; clients: number },
): Promise<LoadedWorkload> {
  if (file.kind === "dataset") {
    const spec = { format: file.format as DatasetFormat, path: file.path };
    return { kind: "dataset", shapes: await datasetSource(spec, limits, { ...where, rows: file.rows }) };
  }
  return {
    kind: "trace",
    part: await tracePart({ format: file.format as TraceFormat, path: file.path }, where),
  };
}
