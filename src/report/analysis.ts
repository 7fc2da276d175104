import type { ExperimentSummary, RunSetup } from "../model/types.js";
import { type Comparison, compareRuntimes } from "./compare.js";
import { assembleReportInput, type ReportInput } from "./input.js";
import { goodputMetric, type ScalingTable, scalingTable, type ThroughputMetric } from "./scaling.js";
import { type TwinPrediction, type TwinRow, twinRows, twinWarnings } from "./twin.js";
import { collectWarnings, type ReportWarning } from "./warnings.js";

/**
 * Everything the report says, computed once: the renderers (Markdown, HTML, text, CSV, charts)
 * only lay it out, so they cannot disagree with each other.
 */
export interface ReportAnalysis {
  input: ReportInput;
  warnings: ReportWarning[];
  /** Output-throughput scaling, one table per image, in image order. */
  scaling: ScalingTable[];
  /** The same under the SLOs (goodput), when the data has goodput. */
  goodputMetric?: ThroughputMetric;
  goodput: ScalingTable[];
  comparisons: Comparison[];
  /** Measured vs predicted per level, when the run saved the twin's prediction. */
  twin?: { prediction: TwinPrediction; rows: TwinRow[] };
}

export function analyze(
  experiments: ExperimentSummary[],
  setup?: RunSetup,
  twin?: TwinPrediction,
): ReportAnalysis {
  const input = assembleReportInput(experiments, setup);
  return analyzeInput(input, twin);
}

export function analyzeInput(input: ReportInput, twin?: TwinPrediction): ReportAnalysis {
  const rows = twin ? twinRows(input, twin) : [];
  const warnings = [...collectWarnings(input), ...twinWarnings(rows)];
  const metric = goodputMetric(input.images);
  const analysis: ReportAnalysis = {
    input,
    warnings,
    scaling: input.images.map((g) => scalingTable(g, "output_throughput")),
    goodput: metric ? input.images.map((g) => scalingTable(g, metric)) : [],
    comparisons: compareRuntimes(input.images, warnings),
  };
  if (metric) analysis.goodputMetric = metric;
  if (twin && rows.length > 0) analysis.twin = { prediction: twin, rows };
  return analysis;
}
