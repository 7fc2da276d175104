import type { TopLevelSpec } from "vega-lite";
import type { ReportAnalysis } from "../analysis.js";
import { type CapacityTable, capacityValue, describeCriterion } from "../capacity.js";
import { formatLevel, formatScale, formatThroughput, imageTitle } from "../format.js";
import type { ImageGroup } from "../input.js";
import { slug } from "../table-model.js";
import { type ChartDef, CONFIG, PALETTE, PANEL_HEIGHT, PANEL_WIDTH, round, SCHEMA, TIP } from "./style.js";

/**
 * Latency against load per replica under the SLO, one panel per limited latency (pP in ms), or the
 * share of requests within every limit for a goodput-fraction SLO; one line per scale, the SLO's
 * limit as a dashed rule, each scale's capacity as a diamond on that rule and each curve's knee as
 * an open circle. Reads only the capacity table (capacity.ts); draws nothing it did not compute.
 */

const PANEL_TITLE = {
  ttft: "TTFT",
  tpot: "TPOT",
  e2el: "E2EL",
  goodput_fraction: "Requests within every limit",
};

export function capacityChart(analysis: ReportAnalysis, group: ImageGroup, table: CapacityTable): ChartDef {
  const criterion = table.criterion;
  const share = criterion.kind === "goodput_fraction";
  const unit = share ? "%" : "ms";
  const scaleValue = (v: number) => (share ? round(v * 100, 2) : round(v, 2));
  const panelTitle = (metric: keyof typeof PANEL_TITLE) =>
    criterion.kind === "percentile" ? `p${criterion.percentile} ${PANEL_TITLE[metric]}` : PANEL_TITLE[metric];
  const rows: object[] = [];
  for (const s of table.scales) {
    const value = capacityValue(s);
    for (const curve of s.curves ?? []) {
      const panel = panelTitle(curve.metric);
      const base = { scale: formatScale(s.scale), panel };
      curve.points.forEach((p, i) => {
        const y = scaleValue(p.value);
        const tip = `${group.image} ${formatScale(s.scale)}, ${formatLevel(p.level)}: ${panel} ${y} ${unit} at ${formatThroughput(p.load)} req/s per replica`;
        rows.push({ ...base, kind: "level", order: i, load: round(p.load, 3), y, tip });
        if (curve.knee === i)
          rows.push({ ...base, kind: "knee", load: round(p.load, 3), y, tip: `knee: ${tip}` });
      });
      rows.push({
        panel,
        kind: "limit",
        y: scaleValue(curve.limit),
        tip: `SLO: ${panel} limit ${scaleValue(curve.limit)} ${unit}`,
      });
      if (value !== undefined) {
        rows.push({
          ...base,
          kind: "capacity",
          load: round(value, 3),
          y: scaleValue(curve.limit),
          tip: `capacity at ${formatScale(s.scale)}: ${formatThroughput(value)} req/s per replica`,
        });
      }
    }
  }
  // Each scale keeps the colour it has in every other chart: its place among all the report's scales.
  const all = [...new Set(analysis.input.images.flatMap((g) => g.scales))].sort((a, b) => a - b);
  const color = {
    field: "scale",
    type: "nominal" as const,
    title: "Scale",
    scale: {
      domain: table.scales.map((s) => formatScale(s.scale)),
      range: table.scales.map((s) => PALETTE[Math.max(0, all.indexOf(s.scale)) % PALETTE.length] as string),
    },
  };
  const x = { field: "load", type: "quantitative" as const, title: "Request throughput per replica (req/s)" };
  const y = { field: "y", type: "quantitative" as const, title: unit, axis: { tickCount: 5 } };
  const only = (kind: string) => [{ filter: `datum.kind === '${kind}'` }];
  const title = `${imageTitle(group)}: latency vs load per replica under the SLO`;
  return {
    name: `capacity-${slug(group.image)}`,
    title,
    spec: {
      $schema: SCHEMA,
      title: {
        text: "Capacity under the SLO",
        subtitle: [
          `${imageTitle(group)}, at ${describeCriterion(criterion)}`,
          "Dashed: the limit. Diamonds: each scale's capacity. Open circles: each curve's knee (Kneedle).",
        ],
      },
      data: { values: rows as never[] },
      facet: { field: "panel", type: "nominal", title: null },
      columns: 2,
      spec: {
        width: PANEL_WIDTH,
        height: PANEL_HEIGHT,
        layer: [
          {
            transform: only("level"),
            mark: { type: "line", point: { size: 40, filled: true }, strokeWidth: 2 },
            encoding: { x, y, color, order: { field: "order", type: "quantitative" }, description: TIP },
          },
          {
            transform: only("limit"),
            mark: { type: "rule", strokeDash: [6, 4], color: "#555" },
            encoding: { y, description: TIP },
          },
          {
            transform: only("capacity"),
            mark: { type: "point", shape: "diamond", size: 140, filled: true },
            encoding: { x, y, color, description: TIP },
          },
          {
            transform: only("knee"),
            mark: { type: "point", shape: "circle", size: 220, filled: false, strokeWidth: 2 },
            encoding: { x, y, color, description: TIP },
          },
        ],
      },
      resolve: { scale: { y: "independent" } },
      config: CONFIG,
    } as TopLevelSpec,
  };
}
