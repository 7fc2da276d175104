import type { ReportAnalysis } from "./analysis.js";
import { capacityTableView, capacityVerdictView } from "./capacity-view.js";
import { comparisonSummaryView, verdictTableView } from "./first-screen.js";
import { qualityGroups } from "./quality.js";
import { summaryLines } from "./summary.js";
import type { Table, TableCell } from "./table-model.js";
import { comparisonTableView, scalingTableView } from "./tables.js";
import { warningCodes } from "./warnings.js";

/**
 * The report's tables for a terminal (what `orchestrate results DIR...` shows): the summary, the
 * scaling table per image, OSS vs Turbo, and where the data-quality warnings are. Plain aligned
 * text, no colour, so it reads the same in a pipe or a CI log.
 */
export function renderText(analysis: ReportAnalysis, chartPaths: readonly string[] = []): string {
  const out: string[] = [answerText(analysis), "", ...summaryLines(analysis).map((l) => `• ${l}`), ""];
  for (const table of analysis.scaling) out.push(renderTable(scalingTableView(analysis, table)), "");
  for (const table of analysis.goodput) out.push(renderTable(scalingTableView(analysis, table)), "");
  for (const table of analysis.capacity)
    out.push(renderTable(capacityTableView(table, analysis.tolerance)), "");
  for (const comparison of analysis.comparisons) {
    out.push(...comparison.verdicts.map((v) => `• ${v.text}`), "");
    out.push(renderTable(comparisonTableView(analysis, comparison)), "");
  }
  const groups = qualityGroups(analysis.warnings);
  if (groups.length > 0) {
    out.push("Data quality:");
    for (const g of groups) {
      out.push(`  ⚠${g.code} ${g.title}: ${g.meaning}`);
      for (const w of g.where) out.push(`      ${w}`);
    }
    out.push("");
  }
  if (chartPaths.length > 0) out.push("Charts:", ...chartPaths.map((p) => `  ${p}`), "");
  return out.join("\n");
}

/** The first screen on a terminal: the verdict table, then OSS vs Turbo per scale. */
export function answerText(analysis: ReportAnalysis): string {
  return [
    renderTable(verdictTableView(analysis)),
    ...(analysis.capacity.length > 0
      ? [renderTable(capacityVerdictView(analysis.capacity, analysis.tolerance))]
      : []),
    ...analysis.comparisons.map((c) => renderTable(comparisonSummaryView(analysis, c))),
  ].join("\n\n");
}

export function renderTable(table: Table): string {
  const cells = (row: TableCell[]) =>
    row.map((c) => {
      const codes = c.warnings ? warningCodes(c.warnings) : "";
      return codes ? `${c.text} ⚠${codes}` : c.text;
    });
  const header = table.columns.map((c) => c.label);
  const body = table.rows.map(cells);
  const widths = header.map((h, i) => Math.max(width(h), ...body.map((r) => width(r[i] ?? ""))));
  const line = (row: string[]) =>
    row
      .map((text, i) => {
        const pad = " ".repeat(Math.max(0, (widths[i] ?? 0) - width(text)));
        return table.columns[i]?.numeric ? pad + text : text + pad;
      })
      .join("  ")
      .trimEnd();
  return [
    table.title,
    ...table.notes.map((n) => `  ${n}`),
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...body.map(line),
    ...table.footnotes.map((f) => `  ${f}`),
  ].join("\n");
}

/** Display width: the characters we use (—, ⚠, ×, ±) are one column each. */
function width(text: string): number {
  return [...text].length;
}
