import { join, resolve } from "node:path";
import { writeFileAtomic } from "../fs-atomic.js";
import type { ExperimentSummary, RunSetup } from "../model/types.js";
import { analyze, type ReportAnalysis } from "./analysis.js";
import { capacityCsv } from "./capacity-csv.js";
import { findChartFonts } from "./charts/fonts.js";
import { type RenderedChart, renderChart } from "./charts/render.js";
import { reportCharts } from "./charts/specs.js";
import { summaryCsv } from "./csv.js";
import { type Block, reportDocument } from "./document.js";
import { renderHtml } from "./html.js";
import { renderMarkdown } from "./markdown.js";
import { type GeneratedBy, generatedBy, setupSection } from "./setup-facts.js";
import { summaryLines } from "./summary.js";
import { answerText } from "./text.js";
import type { TwinPrediction } from "./twin.js";

/**
 * Builds the whole report into outDir: report.md, report.html, summary.csv, report.json and
 * charts/*.svg + *.png. `run` calls this at the end of a run; `report` calls it for any folders.
 */

export interface BuildReportOptions {
  experiments: ExperimentSummary[];
  setup?: RunSetup;
  /** What the twin predicted for the run (twin.json), to set beside the measurements. */
  twin?: TwinPrediction;
  /** Overrides the run's report.linearity_tolerance. */
  tolerance?: number;
  outDir: string;
  /** Overrides the title ("Scaling report: <plan>" by default). */
  title?: string;
  /** For reproducible output in tests. */
  generated?: GeneratedBy;
}

export interface ReportChartFiles {
  name: string;
  title: string;
  svg: string;
  png: string;
  /** PNG size in pixels. */
  width: number;
  height: number;
}

export interface ReportFiles {
  outDir: string;
  markdown: string;
  html: string;
  csv: string;
  /** capacity.csv, when the SLO has a capacity criterion. */
  capacityCsv?: string;
  json: string;
  charts: ReportChartFiles[];
  /** The report's opening sentences (efficiency per image, OSS vs Turbo, warnings), for a terminal. */
  summary: string[];
  /** The verdict tables as plain text: what a terminal shows first. */
  answer: string;
  warningCount: number;
  /** Anything that made the report less than it should be (no font for PNG text, chart warnings). */
  notes: string[];
}

export async function buildReport(options: BuildReportOptions): Promise<ReportFiles> {
  const outDir = resolve(options.outDir);
  const analysis = analyze(options.experiments, options.setup, {
    ...(options.twin ? { twin: options.twin } : {}),
    ...(options.tolerance !== undefined ? { tolerance: options.tolerance } : {}),
  });
  const title = options.title ?? defaultTitle(analysis);
  const generated = options.generated ?? generatedBy();

  const fonts = findChartFonts();
  const notes: string[] = [];
  if (fonts.defaultFamily === undefined) {
    notes.push(
      "no known font file found (DejaVu Sans, Liberation Sans): PNG text uses whatever system fonts resvg finds",
    );
  }
  const defs = reportCharts(analysis);
  const rendered: RenderedChart[] = [];
  for (const def of defs) {
    const chart = await renderChart(def, fonts);
    for (const w of chart.warnings) notes.push(`chart ${chart.name}: ${w}`);
    rendered.push(chart);
  }

  const files: ReportFiles = {
    outDir,
    markdown: join(outDir, "report.md"),
    html: join(outDir, "report.html"),
    csv: join(outDir, "summary.csv"),
    json: join(outDir, "report.json"),
    charts: rendered.map((c) => ({
      name: c.name,
      title: c.title,
      svg: join(outDir, "charts", `${c.name}.svg`),
      png: join(outDir, "charts", `${c.name}.png`),
      width: c.pngWidth,
      height: c.pngHeight,
    })),
    summary: summaryLines(analysis),
    answer: answerText(analysis),
    warningCount: analysis.warnings.length,
    notes,
  };
  if (analysis.capacity.length > 0) files.capacityCsv = join(outDir, "capacity.csv");

  const blocks: Block[] = [
    ...reportDocument(analysis, defs, setupSection(analysis.input, generated), title),
    { kind: "heading", level: 2, text: "Files", id: "files" },
    { kind: "files", items: fileList(files) },
  ];
  for (const chart of rendered) {
    await writeFileAtomic(join(outDir, "charts", `${chart.name}.svg`), chart.svg);
    await writeFileAtomic(join(outDir, "charts", `${chart.name}.png`), chart.png);
  }
  await writeFileAtomic(files.csv, summaryCsv(analysis));
  if (files.capacityCsv) await writeFileAtomic(files.capacityCsv, capacityCsv(analysis.capacity));
  await writeFileAtomic(files.json, `${JSON.stringify(reportJson(analysis, generated), null, 2)}\n`);
  await writeFileAtomic(files.markdown, renderMarkdown(blocks));
  await writeFileAtomic(files.html, renderHtml(blocks, rendered, title));
  return files;
}

function defaultTitle(analysis: ReportAnalysis): string {
  if (analysis.input.setup) return `Scaling report: ${analysis.input.setup.planName}`;
  return `Scaling report: ${analysis.input.images.map((g) => g.image).join(" vs ")}`;
}

function fileList(files: ReportFiles): Array<{ path: string; what: string }> {
  return [
    { path: "report.md", what: "this report, Markdown with the PNG charts" },
    { path: "report.html", what: "this report, one self-contained page (inline SVG charts, no network)" },
    {
      path: "summary.csv",
      what: "one row per image × scale × level (columns in docs/report.md)",
    },
    ...(files.capacityCsv
      ? [
          {
            path: "capacity.csv",
            what: "one row per image × scale: capacity under the SLO (columns in docs/report.md)",
          },
        ]
      : []),
    { path: "report.json", what: "the computed scaling, comparison and warnings, for scripts" },
    ...files.charts.map((c) => ({ path: `charts/${c.name}.svg|png`, what: c.title })),
  ];
}

/** The analysis without its in-memory indexes: what a script needs to re-check the numbers. */
function reportJson(analysis: ReportAnalysis, generated: GeneratedBy): unknown {
  return {
    format: "orchestrate-report",
    version: 1,
    generated,
    images: analysis.input.images.map((g) => ({
      image: g.image,
      runtime: g.runtime ?? null,
      scales: g.scales,
      measuredScales: [...g.experiments.keys()].sort((a, b) => a - b),
      levels: g.levels.map((l) => l.key),
      experiments: [...g.experiments.values()].flat().map((e) => e.dir),
    })),
    // Every verdict below judges a 95% interval against 1 ± this (docs/noise.md).
    linearityTolerance: analysis.tolerance,
    scaling: analysis.scaling,
    goodputMetric: analysis.goodputMetric ?? null,
    goodput: analysis.goodput,
    comparisons: analysis.comparisons,
    capacity: analysis.capacity,
    replicasNeeded: analysis.replicasNeeded,
    twin: analysis.twin?.rows ?? null,
    warnings: analysis.warnings,
  };
}
