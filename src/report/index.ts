/**
 * The scaling report, for the commands that use it: `report` (buildReport), `run` (buildReport at
 * the end of a run) and `results` (reportText, for a terminal).
 */
import type { ExperimentSummary, RunSetup } from "../model/types.js";
import { analyze } from "./analysis.js";
import { renderText } from "./text.js";

export { analyze, type ReportAnalysis } from "./analysis.js";
export { type BuildReportOptions, buildReport, type ReportChartFiles, type ReportFiles } from "./build.js";
export { describeFiles } from "./report-command.js";
export { loadReportSources, type ReportSources, type ScaleOptions } from "./sources.js";

/**
 * The report's tables as plain text (summary, scaling per image, goodput, OSS vs Turbo verdicts and
 * table, where the data-quality warnings are), optionally ending with the paths of the charts.
 */
export function reportText(
  experiments: ExperimentSummary[],
  setup?: RunSetup,
  chartPaths: string[] = [],
): string {
  return renderText(analyze(experiments, setup), chartPaths);
}
