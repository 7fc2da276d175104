import type { ReportAnalysis } from "./analysis.js";
import { formatEfficiency, formatScale, imageTitle } from "./format.js";
import { noiseLines } from "./noise.js";
import type { ScalingTable } from "./scaling.js";

/** The few sentences at the top of the report: how well each image scaled, and OSS vs Turbo. */

export interface EfficiencyRange {
  scale: number;
  levels: number;
  min: number;
  max: number;
  median: number;
}

export function efficiencyRanges(table: ScalingTable): EfficiencyRange[] {
  const out: EfficiencyRange[] = [];
  for (const scale of table.scales) {
    if (scale === table.baseScale) continue;
    const values = table.rows
      .map((r) => r.points.find((p) => p.scale === scale)?.efficiency)
      .filter((v): v is number => v !== undefined)
      .sort((a, b) => a - b);
    if (values.length === 0) continue;
    const mid = Math.floor(values.length / 2);
    const median =
      values.length % 2 === 1
        ? (values[mid] as number)
        : ((values[mid - 1] as number) + (values[mid] as number)) / 2;
    out.push({
      scale,
      levels: values.length,
      min: values[0] as number,
      max: values.at(-1) as number,
      median,
    });
  }
  return out;
}

export function summaryLines(analysis: ReportAnalysis): string[] {
  const lines: string[] = [];
  analysis.input.images.forEach((group, i) => {
    const table = analysis.scaling[i];
    if (!table || table.baseScale === undefined) {
      lines.push(`${imageTitle(group)}: nothing measured.`);
      return;
    }
    const ranges = efficiencyRanges(table);
    if (ranges.length === 0) {
      lines.push(
        `${imageTitle(group)}: only ${formatScale(table.baseScale)} measured, so no scaling to show.`,
      );
      return;
    }
    const parts = ranges.map(
      (r) =>
        `${formatScale(r.scale)} ${formatEfficiency(r.median)} (${formatEfficiency(r.min)}–${formatEfficiency(r.max)} over ${r.levels} level${r.levels === 1 ? "" : "s"})`,
    );
    lines.push(
      `${imageTitle(group)}: scaling efficiency over ${formatScale(table.baseScale)}, median per scale: ${parts.join("; ")}.`,
    );
    lines.push(...noiseLines(group, table));
  });
  for (const c of analysis.comparisons) lines.push(`OSS vs Turbo (${c.oss} vs ${c.turbo}): ${c.headline}`);
  const warned = new Set(analysis.warnings.map((w) => w.kind));
  if (warned.size > 0) {
    lines.push(
      `Data quality: ${analysis.warnings.length} warning${analysis.warnings.length === 1 ? "" : "s"} (${[...warned].join(", ")}); they are marked next to the numbers they affect.`,
    );
  }
  return lines;
}
