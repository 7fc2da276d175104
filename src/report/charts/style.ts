import type { TopLevelSpec } from "vega-lite";

/** What every chart of the report shares: its definition, size, fonts, colours and config. */

export interface ChartDef {
  /** File stem under charts/: "throughput-per-replica-rayoss251". */
  name: string;
  /** What the chart shows, for alt text and captions. */
  title: string;
  spec: TopLevelSpec;
}

/** Fonts the PNG renderer finds on Debian first (DejaVu), browsers fall back along the list. */
export const CHART_FONT = "DejaVu Sans, Liberation Sans, Helvetica, Arial, sans-serif";

export const WIDTH = 560;
export const HEIGHT = 300;
export const PANEL_WIDTH = 300;
export const PANEL_HEIGHT = 190;

export const CONFIG = {
  font: CHART_FONT,
  background: "white",
  padding: 12,
  title: { fontSize: 16, subtitleFontSize: 13, subtitleColor: "#555", anchor: "start" as const, offset: 10 },
  axis: { labelFontSize: 12, titleFontSize: 13, titleFontWeight: "normal" as const, gridColor: "#e6e6e6" },
  // Panels side by side line up only if every y axis takes the same room, whatever its labels.
  axisY: { minExtent: 44 },
  legend: { labelFontSize: 12, titleFontSize: 13, titleFontWeight: "normal" as const },
  header: { labelFontSize: 13, titleFontSize: 13 },
  mark: { invalid: "break-paths-filter-domains" as const },
  view: { stroke: "#ccc" },
};

export const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

export const PALETTE = [
  "#4c78a8",
  "#f58518",
  "#54a24b",
  "#e45756",
  "#72b7b2",
  "#b279a2",
  "#eeca3b",
  "#9d755d",
];

/** The tooltip/description field every data row carries. */
export const TIP = { field: "tip", type: "nominal" as const };

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
