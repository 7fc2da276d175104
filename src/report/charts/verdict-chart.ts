import type { TopLevelSpec } from "vega-lite";
import type { ReportAnalysis } from "../analysis.js";
import { formatEfficiency, formatLevel, formatScale } from "../format.js";
import { NOISE_NOT_MEASURED } from "../noise.js";
import { formatTolerance } from "../verdict.js";
import { type ChartDef, CONFIG, PALETTE, round, SCHEMA, TIP } from "./style.js";

/**
 * The chart of the report's first screen: E(N) against N, one colour per per-client level, each
 * point with its 95% interval, and the band 100% ± tolerance (what the verdicts call linear)
 * shaded, one panel per image. A reader sees at once which levels stay in the band, which fall
 * below it, and which bars are too long to tell. N₀ sits at 100% by definition.
 */
export function verdictChart(analysis: ReportAnalysis): ChartDef | undefined {
  const rows: object[] = [];
  const levels = new Map<number, string>();
  analysis.input.images.forEach((group, i) => {
    const table = analysis.scaling[i];
    const base = table?.baseScale;
    if (!table || base === undefined || table.scales.length < 2) return;
    let first = true;
    for (const row of table.rows) {
      levels.set(row.level.value, formatLevel(row.level));
      for (const point of row.points) {
        if (point.efficiency === undefined) continue;
        const interval = point.judgement?.interval;
        rows.push({
          image: group.image,
          scale: formatScale(point.scale),
          replicas: point.scale,
          level: formatLevel(row.level),
          efficiency: round(point.efficiency * 100, 2),
          low: interval ? round(interval[0] * 100, 2) : null,
          high: interval ? round(interval[1] * 100, 2) : null,
          // One row per panel carries the band and the 100% line, so they are drawn once.
          first,
          tip:
            `${group.image} ${formatScale(point.scale)}, ${formatLevel(row.level)}: E ${formatEfficiency(point.efficiency)}` +
            (interval ? ` (95% ${formatEfficiency(interval[0])} – ${formatEfficiency(interval[1])})` : ""),
        });
        first = false;
      }
    }
  });
  if (rows.length === 0) return undefined;
  const band = analysis.tolerance * 100;
  const values = rows.flatMap((r) => {
    const { efficiency, low, high } = r as { efficiency: number; low: number | null; high: number | null };
    return [efficiency, low ?? efficiency, high ?? efficiency];
  });
  const lo = Math.min(60, Math.floor((Math.min(...values, 100 - band) - 5) / 10) * 10);
  const hi = Math.max(120, Math.ceil((Math.max(...values, 100 + band) + 5) / 10) * 10);
  const y = { type: "quantitative" as const, title: "E(N) (%)", scale: { domain: [lo, hi] } };
  const scales = [...new Set(analysis.input.images.flatMap((g) => g.scales))].sort((a, b) => a - b);
  const x = {
    field: "scale",
    type: "ordinal" as const,
    title: "Scale N (LLM replicas)",
    sort: scales.map(formatScale),
    axis: { labelAngle: 0 },
  };
  const levelOrder = [...levels.keys()].sort((a, b) => a - b).map((v) => levels.get(v) as string);
  const color = {
    field: "level",
    type: "nominal" as const,
    title: "Per-client level",
    sort: levelOrder,
    scale: { domain: levelOrder, range: levelOrder.map((_, i) => PALETTE[i % PALETTE.length] as string) },
  };
  const xOffset = { field: "level", type: "nominal" as const, sort: levelOrder };
  const withIntervals = rows.some((r) => (r as { low: number | null }).low !== null);
  const panels = new Set(rows.map((r) => (r as { image: string }).image)).size;
  return {
    name: "verdicts",
    title: "E(N) against N per level, with 95% intervals and the linear band",
    spec: {
      $schema: SCHEMA,
      title: {
        text: "Does it scale? E(N) against N",
        subtitle: [
          `Grey band: 100% ± ${formatTolerance(analysis.tolerance)}, what the verdicts call linear; one colour per per-client level.`,
          withIntervals ? "Bars: 95% intervals from the repeats." : `No intervals: ${NOISE_NOT_MEASURED}.`,
        ],
      },
      data: { values: rows as never[] },
      facet: { field: "image", type: "nominal", title: null, header: { labelFontSize: 14 } },
      columns: 2,
      spec: {
        width: panels > 1 ? 380 : 560,
        height: 260,
        layer: [
          {
            transform: [{ filter: "datum.first" }],
            mark: { type: "rect", color: "#999", opacity: 0.2 },
            encoding: { y: { ...y, datum: 100 - band }, y2: { datum: 100 + band } },
          },
          {
            transform: [{ filter: "datum.first" }],
            mark: { type: "rule", strokeDash: [4, 4], color: "#333" },
            encoding: { y: { ...y, datum: 100 } },
          },
          {
            // Points, not lines: the levels sit side by side at each N, and a line through
            // dodged points would slope where nothing changed.
            mark: { type: "point", filled: true, size: 60, opacity: 1 },
            encoding: { x, xOffset, y: { ...y, field: "efficiency" }, color, description: TIP },
          },
          ...(withIntervals
            ? [
                {
                  mark: { type: "errorbar", ticks: true },
                  encoding: { x, xOffset, y: { ...y, field: "low" }, y2: { field: "high" }, color },
                },
              ]
            : []),
        ],
      },
      config: CONFIG,
    } as unknown as TopLevelSpec,
  };
}
