import type { ExperimentSummary, RunSetup } from "../model/types.js";
import {
  type CapacityTable,
  capacityCriterion,
  capacityTable,
  type ReplicasNeeded,
  replicasNeeded,
} from "./capacity.js";
import { type Comparison, compareRuntimes } from "./compare.js";
import { assembleReportInput, type ReportInput } from "./input.js";
import { goodputMetric, type ScalingTable, scalingTable, type ThroughputMetric } from "./scaling.js";
import { type TwinPrediction, type TwinRow, twinRows, twinWarnings } from "./twin.js";
import { DEFAULT_TOLERANCE } from "./verdict.js";
import { collectWarnings, type ReportWarning } from "./warnings.js";

/**
 * Everything the report says, computed once: the renderers (Markdown, HTML, text, CSV, charts)
 * only lay it out, so they cannot disagree with each other.
 */
export interface ReportAnalysis {
  input: ReportInput;
  /** The band 100% ± this is "linear", and Turbo / OSS within 1 ± this is "the same". */
  tolerance: number;
  warnings: ReportWarning[];
  /** Output-throughput scaling, one table per image, in image order. */
  scaling: ScalingTable[];
  /** The same under the SLOs (goodput), when the data has goodput. */
  goodputMetric?: ThroughputMetric;
  goodput: ScalingTable[];
  comparisons: Comparison[];
  /** Capacity under the SLO per image and scale, when the SLO has a capacity criterion (capacity.ts). */
  capacity: CapacityTable[];
  /** Replicas needed for the SLO's target_rate, per image that has a capacity. */
  replicasNeeded: ReplicasNeeded[];
  /** Measured vs predicted per level, when the run saved the twin's prediction. */
  twin?: { prediction: TwinPrediction; rows: TwinRow[] };
}

export interface AnalysisOptions {
  twin?: TwinPrediction;
  /** Overrides the run's report.linearity_tolerance (the `--linearity-tolerance` flag). */
  tolerance?: number;
}

export function analyze(
  experiments: ExperimentSummary[],
  setup?: RunSetup,
  options: AnalysisOptions = {},
): ReportAnalysis {
  return analyzeInput(assembleReportInput(experiments, setup), options);
}

export function analyzeInput(input: ReportInput, options: AnalysisOptions = {}): ReportAnalysis {
  const { twin } = options;
  const tolerance = options.tolerance ?? input.setup?.linearityTolerance ?? DEFAULT_TOLERANCE;
  const rows = twin ? twinRows(input, twin) : [];
  const warnings = [...collectWarnings(input), ...twinWarnings(rows)];
  const metric = goodputMetric(input.images);
  const analysis: ReportAnalysis = {
    input,
    tolerance,
    warnings,
    scaling: input.images.map((g) => scalingTable(g, "output_throughput", tolerance)),
    goodput: metric ? input.images.map((g) => scalingTable(g, metric, tolerance)) : [],
    comparisons: compareRuntimes(input.images, warnings, tolerance),
    ...capacityAnalysis(input, tolerance),
  };
  if (metric) analysis.goodputMetric = metric;
  if (twin && rows.length > 0) analysis.twin = { prediction: twin, rows };
  return analysis;
}

function capacityAnalysis(
  input: ReportInput,
  tolerance: number,
): Pick<ReportAnalysis, "capacity" | "replicasNeeded"> {
  const slo = input.setup?.workload.slo;
  const criterion = capacityCriterion(slo);
  if (!criterion) return { capacity: [], replicasNeeded: [] };
  const capacity = input.images.map((g) => capacityTable(g, criterion, tolerance));
  const target = slo?.targetRate;
  return {
    capacity,
    replicasNeeded: target === undefined ? [] : capacity.flatMap((t) => replicasNeeded(t, target) ?? []),
  };
}
