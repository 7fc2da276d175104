import type { ReportAnalysis } from "./analysis.js";
import { capacityTableView, capacityVerdictView, replicasNeededLine } from "./capacity-view.js";
import type { ChartDef } from "./charts/specs.js";
import { comparisonSummaryView, verdictTableView } from "./first-screen.js";
import { imageTitle } from "./format.js";
import { type QualityGroup, qualityGroups } from "./quality.js";
import { THROUGHPUT_METRICS } from "./scaling.js";
import type { SetupSection } from "./setup-facts.js";
import { summaryLines } from "./summary.js";
import { slug, type Table } from "./table-model.js";
import { comparisonTableView, measurementsTableView, scalingTableView } from "./tables.js";
import { twinTableView } from "./twin.js";

/**
 * The report's outline as a list of blocks: what comes in which order, once, for every format.
 * Markdown and HTML differ only in how they draw a block.
 */

export type Block =
  | { kind: "heading"; level: 1 | 2 | 3; text: string; id: string }
  | { kind: "paragraph"; text: string }
  | { kind: "list"; items: string[] }
  | { kind: "chart"; name: string; title: string }
  | { kind: "table"; table: Table; collapsed?: boolean }
  | { kind: "quality"; groups: QualityGroup[] }
  | { kind: "setup"; setup: SetupSection }
  | { kind: "files"; items: Array<{ path: string; what: string }> };

export function reportDocument(
  analysis: ReportAnalysis,
  charts: readonly Pick<ChartDef, "name" | "title">[],
  setup: SetupSection,
  title: string,
): Block[] {
  const chart = (name: string): Block[] => {
    const found = charts.find((c) => c.name === name);
    return found ? [{ kind: "chart", name: found.name, title: found.title }] : [];
  };
  // The first screen answers: the verdict table, the E(N) chart, OSS vs Turbo; prose follows.
  const blocks: Block[] = [
    { kind: "heading", level: 1, text: title, id: "top" },
    { kind: "table", table: verdictTableView(analysis) },
    ...chart("verdicts"),
    ...(analysis.capacity.length > 0
      ? [{ kind: "table", table: capacityVerdictView(analysis.capacity, analysis.tolerance) } as const]
      : []),
    ...analysis.comparisons.map((c): Block => ({ kind: "table", table: comparisonSummaryView(analysis, c) })),
    { kind: "heading", level: 2, text: "In words", id: "summary" },
    { kind: "list", items: summaryLines(analysis) },
  ];

  analysis.input.images.forEach((group, i) => {
    const table = analysis.scaling[i];
    blocks.push({ kind: "heading", level: 2, text: imageTitle(group), id: `image-${slug(group.image)}` });
    blocks.push(...chart(`throughput-per-replica-${slug(group.image)}`));
    if (table) blocks.push({ kind: "table", table: scalingTableView(analysis, table) });
    blocks.push(...chart(`efficiency-${slug(group.image)}`));
    const goodput = analysis.goodput[i];
    if (goodput && analysis.goodputMetric) {
      blocks.push({
        kind: "heading",
        level: 3,
        text: `Under the SLOs: ${THROUGHPUT_METRICS[analysis.goodputMetric].label}`,
        id: `goodput-${slug(group.image)}`,
      });
      blocks.push({ kind: "table", table: scalingTableView(analysis, goodput) });
    }
    const capacity = analysis.capacity[i];
    if (capacity) {
      blocks.push({
        kind: "heading",
        level: 3,
        text: "Capacity under the SLO",
        id: `capacity-${slug(group.image)}`,
      });
      blocks.push(...chart(`capacity-${slug(group.image)}`));
      blocks.push({ kind: "table", table: capacityTableView(capacity, analysis.tolerance) });
      const needed = analysis.replicasNeeded.filter((n) => n.image === group.image).map(replicasNeededLine);
      if (needed.length > 0) blocks.push({ kind: "list", items: needed });
    }
    blocks.push({
      kind: "heading",
      level: 3,
      text: "Latency against throughput",
      id: `latency-${slug(group.image)}`,
    });
    blocks.push(...chart(`latency-${slug(group.image)}`));
    blocks.push({ kind: "table", table: measurementsTableView(analysis, group), collapsed: true });
  });
  if (!analysis.goodputMetric) {
    blocks.push({
      kind: "paragraph",
      text: "No SLOs were set for these runs, so there is no goodput and no scaling table under SLOs.",
    });
  } else if (analysis.capacity.length === 0) {
    blocks.push({
      kind: "paragraph",
      text:
        "No capacity under the SLO: it needs a capacity criterion in the plan's benchmark.slo (percentile, e.g. 99, or " +
        "goodput_fraction, e.g. 0.95) and a run folder whose setup records it.",
    });
  }

  if (analysis.comparisons.length > 0) {
    blocks.push({
      kind: "heading",
      level: 2,
      text: "Open-source Ray vs Anyscale runtime",
      id: "oss-vs-turbo",
    });
    for (const comparison of analysis.comparisons) {
      blocks.push({ kind: "paragraph", text: comparison.headline });
      blocks.push({ kind: "list", items: comparison.verdicts.map((v) => v.text) });
      const pair = `${slug(comparison.oss)}-${slug(comparison.turbo)}`;
      blocks.push(...chart(`side-by-side-${pair}`), ...chart(`turbo-vs-oss-${pair}`));
      blocks.push({ kind: "table", table: comparisonTableView(analysis, comparison) });
    }
  } else {
    blocks.push({
      kind: "paragraph",
      text: "No OSS vs Turbo comparison: the images are not one open-source Ray and one Anyscale runtime image.",
    });
  }

  if (analysis.twin) {
    blocks.push({ kind: "heading", level: 2, text: "Measured vs the twin", id: "twin" });
    blocks.push({
      kind: "table",
      table: twinTableView(analysis.twin.rows, analysis.warnings, analysis.twin.prediction),
    });
  }

  const groups = qualityGroups(analysis.warnings);
  blocks.push({ kind: "heading", level: 2, text: "Data quality", id: "data-quality" });
  blocks.push(
    groups.length > 0
      ? { kind: "quality", groups }
      : {
          kind: "paragraph",
          text: "No data-quality warnings: every level completed every request, no client was the bottleneck.",
        },
  );

  blocks.push({ kind: "heading", level: 2, text: "Setup", id: "setup" });
  blocks.push({ kind: "setup", setup });

  const seedCharts = analysis.input.images.flatMap((g) => chart(`seed-style-${slug(g.image)}`));
  if (seedCharts.length > 0) {
    blocks.push({ kind: "heading", level: 2, text: "The seed's plot, as it drew it", id: "seed-plot" });
    blocks.push({
      kind: "paragraph",
      text:
        "Request throughput per replica against concurrency on a linear axis, as the seed's plot_results.py drew it, " +
        "for comparison with its published plots. The charts above use output tokens per second and a log axis.",
    });
    blocks.push(...seedCharts);
  }
  return blocks;
}
