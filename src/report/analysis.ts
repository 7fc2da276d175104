import type { ExperimentSummary, RunSetup } from "../results/model.js";
import { type Comparison, compareRuntimes } from "./compare.js";
import { assembleReportInput, type ReportInput } from "./input.js";
import { goodputMetric, type ScalingTable, scalingTable, type ThroughputMetric } from "./scaling.js";
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
}

export function analyze(experiments: ExperimentSummary[], setup?: RunSetup): ReportAnalysis {
  const input = assembleReportInput(experiments, setup);
  return analyzeInput(input);
}

export function analyzeInput(input: ReportInput): ReportAnalysis {
  const warnings = collectWarnings(input);
  const metric = goodputMetric(input.images);
  const analysis: ReportAnalysis = {
    input,
    warnings,
    scaling: input.images.map((g) => scalingTable(g, "output_throughput")),
    goodput: metric ? input.images.map((g) => scalingTable(g, metric)) : [],
    comparisons: compareRuntimes(input.images, warnings),
  };
  if (metric) analysis.goodputMetric = metric;
  return analysis;
}
