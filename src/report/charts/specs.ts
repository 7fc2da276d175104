import type { TopLevelSpec } from "vega-lite";
import type { LevelId } from "../../model/level-key.js";
import type { ReportAnalysis } from "../analysis.js";
import { type Comparison, formatRatio, LATENCY_KEYS, LATENCY_LABELS, latencyValue } from "../compare.js";
import {
  formatEfficiency,
  formatMs,
  formatScale,
  formatSpeedup,
  formatThroughput,
  imageTitle,
} from "../format.js";
import { cellAt, type ImageGroup } from "../input.js";
import { NOISE_NOT_MEASURED } from "../noise.js";
import type { ScalingTable } from "../scaling.js";
import { slug } from "../table-model.js";
import { formatTolerance } from "../verdict.js";
import { warningsAt } from "../warnings.js";
import { capacityChart } from "./capacity-chart.js";
import {
  type ChartDef,
  CONFIG,
  HEIGHT,
  PALETTE,
  PANEL_HEIGHT,
  PANEL_WIDTH,
  round,
  SCHEMA,
  TIP,
  WIDTH,
} from "./style.js";
import { verdictChart } from "./verdict-chart.js";

export { CHART_FONT, type ChartDef } from "./style.js";

/**
 * The report's charts as Vega-Lite specs. Data is inline (no URLs: rendering must not touch the
 * network), missing measurements are left out or null (a gap in a line, never a zero), and every
 * scale keeps the same colour in every chart so a reader can follow "4x" across the page.
 */

/**
 * One colour per scale, the same in every chart: the colour is fixed by the scale's place among all
 * scales of the report, and a chart that shows only some scales lists only those in its legend.
 */
function scaleColor(
  allScales: number[],
  shown: number[] = allScales,
  label: (scale: number) => string = formatScale,
) {
  return {
    domain: shown.map(label),
    range: shown.map((s) => PALETTE[Math.max(0, allScales.indexOf(s)) % PALETTE.length] as string),
  };
}

function allScales(analysis: ReportAnalysis): number[] {
  return [...new Set(analysis.input.images.flatMap((g) => g.scales))].sort((a, b) => a - b);
}

/** Concurrency levels span 4…128+: a log2 axis spaces them evenly, with ticks at the levels themselves. */
function levelAxis(group: { levels: ImageGroup["levels"] }, title: string) {
  const values = [...new Set(group.levels.map((l) => l.value))];
  return {
    field: "level",
    type: "quantitative" as const,
    title,
    scale: { type: "log" as const, base: 2, nice: false, padding: 12 },
    axis: { values, format: "~g", grid: true },
  };
}

function levelTitle(group: Pick<ImageGroup, "levels">): string {
  const mode = group.levels[0]?.mode;
  if (mode === "replay") return "Replay speed per client (log scale)";
  return mode === "request-rate"
    ? "Request rate per client (req/s, log scale)"
    : "Concurrency per client (log scale)";
}

interface ThroughputRow {
  image: string;
  scale: string;
  scaleN: number;
  level: number;
  levelKey: string;
  perReplica: number | null;
  total: number | null;
  requestsPerReplica: number | null;
  /** The point's tooltip (an SVG <title> in the HTML page). */
  tip: string;
}

function throughputRows(analysis: ReportAnalysis, group: ImageGroup): ThroughputRow[] {
  const rows: ThroughputRow[] = [];
  for (const scale of group.scales) {
    if (!group.experiments.has(scale)) continue; // a scale never measured has no line at all
    for (const level of group.levels) {
      const l = cellAt(group, scale, level.key);
      const kinds = [
        ...new Set(warningsAt(analysis.warnings, group.image, scale, level.key).map((w) => w.kind)),
      ];
      const tip = l
        ? `${group.image} ${formatScale(scale)}, ${levelText(level)}: ${formatThroughput(l.outputThroughput / scale)} tok/s per replica ` +
          `(${formatThroughput(l.outputThroughput)} in all)${kinds.length ? `; warnings: ${kinds.join(", ")}` : ""}`
        : `${group.image} ${formatScale(scale)}, ${levelText(level)}: not measured`;
      rows.push({
        image: imageTitle(group),
        scale: formatScale(scale),
        scaleN: scale,
        level: level.value,
        levelKey: level.key,
        perReplica: l ? round(l.outputThroughput / scale) : null,
        total: l ? round(l.outputThroughput) : null,
        requestsPerReplica: l ? round(l.requestThroughput / scale, 3) : null,
        tip,
      });
    }
  }
  return rows;
}

/** Every point describes itself; Vega writes it as the point's aria-label, which the HTML page turns into a tooltip. */

function levelText(level: LevelId): string {
  if (level.mode === "replay") return `replay ×${level.value}`;
  return level.mode === "concurrency" ? `concurrency ${level.value}/client` : `${level.value} req/s/client`;
}

/** Chart 1, the seed's plot: per-replica output throughput vs per-client level, one line per scale. */
export function throughputPerReplicaChart(analysis: ReportAnalysis, group: ImageGroup): ChartDef {
  const title = `${imageTitle(group)}: output throughput per replica`;
  return {
    name: `throughput-per-replica-${slug(group.image)}`,
    title,
    spec: {
      $schema: SCHEMA,
      width: WIDTH,
      height: HEIGHT,
      title: {
        text: "Output throughput per replica",
        subtitle: [imageTitle(group), "One line per scale. Lines on top of each other = linear scaling."],
      },
      data: { values: throughputRows(analysis, group) as never[] },
      mark: { type: "line", point: { size: 50, filled: true }, strokeWidth: 2 },
      encoding: {
        x: levelAxis(group, levelTitle(group)),
        y: { field: "perReplica", type: "quantitative", title: "Output tokens/s per replica" },
        color: { field: "scale", type: "nominal", title: "Scale", scale: scaleColor(allScales(analysis)) },
        order: { field: "level", type: "quantitative" },
        description: TIP,
      },
      config: CONFIG,
    },
  };
}

/** The seed's own plot, kept as it was (request throughput per replica, linear axis), for comparison. */
export function seedStyleChart(analysis: ReportAnalysis, group: ImageGroup): ChartDef {
  const seriesName = (scale: number) => `${group.image}-x${scale} (${scale}x nodes)`;
  const rows = throughputRows(analysis, group).map((r) => ({
    ...r,
    series: seriesName(r.scaleN),
    tip: `${seriesName(r.scaleN)}, concurrency ${r.level}: ${r.requestsPerReplica ?? "not measured"} req/s per replica`,
  }));
  return {
    name: `seed-style-${slug(group.image)}`,
    title: `${group.image}: Throughput vs Concurrency (Normalized per Replica), as the seed plotted it`,
    spec: {
      $schema: SCHEMA,
      width: WIDTH,
      height: HEIGHT,
      title: {
        text: "Throughput vs Concurrency (Normalized per Replica)",
        subtitle: `${imageTitle(group)}, drawn as the seed's plot_results.py did`,
      },
      data: { values: rows as never[] },
      mark: { type: "line", point: { size: 50, filled: true }, strokeWidth: 2 },
      encoding: {
        x: { field: "level", type: "quantitative", title: "Concurrency" },
        y: {
          field: "requestsPerReplica",
          type: "quantitative",
          title: "Throughput per Replica (requests/sec)",
        },
        color: {
          field: "series",
          type: "nominal",
          title: null,
          scale: scaleColor(
            allScales(analysis),
            [...group.experiments.keys()].sort((a, b) => a - b),
            seriesName,
          ),
          legend: { labelLimit: 0 },
        },
        order: { field: "level", type: "quantitative" },
        description: TIP,
      },
      config: CONFIG,
    },
  };
}

/** Chart 2: scaling efficiency E(N) per level, one line per scale above N₀, with linear scaling at 100%. */
export function efficiencyChart(analysis: ReportAnalysis, group: ImageGroup, table: ScalingTable): ChartDef {
  const base = table.baseScale;
  const rows = table.rows.flatMap((row) =>
    row.points
      .filter((p) => p.scale !== base && group.experiments.has(p.scale))
      .map((p) => ({
        scale: formatScale(p.scale),
        level: row.level.value,
        efficiency: p.efficiency === undefined ? null : round(p.efficiency * 100, 2),
        low:
          p.efficiencyCi95 === undefined || p.efficiency === undefined
            ? null
            : round((p.efficiency - p.efficiencyCi95) * 100, 2),
        high:
          p.efficiencyCi95 === undefined || p.efficiency === undefined
            ? null
            : round((p.efficiency + p.efficiencyCi95) * 100, 2),
        speedup: p.speedup === undefined ? null : round(p.speedup, 3),
        tip:
          p.efficiency === undefined
            ? `${formatScale(p.scale)}, ${levelText(row.level)}: not measured`
            : `${formatScale(p.scale)}, ${levelText(row.level)}: efficiency ${formatEfficiency(p.efficiency)}` +
              `${p.efficiencyCi95 === undefined ? "" : ` ±${(p.efficiencyCi95 * 100).toFixed(1)}`}, ` +
              `speed-up ${formatSpeedup(p.speedup)} over ${base === undefined ? "N₀" : formatScale(base)}`,
      })),
  );
  const values = rows.flatMap((r) => [r.efficiency, r.low, r.high]).filter((v): v is number => v !== null);
  const lo = Math.min(60, Math.floor((Math.min(...values, 100) - 5) / 10) * 10);
  const hi = Math.max(120, Math.ceil((Math.max(...values, 100) + 5) / 10) * 10);
  const title = `${imageTitle(group)}: scaling efficiency`;
  const subtitle =
    base === undefined
      ? [imageTitle(group), "Nothing measured."]
      : [
          imageTitle(group),
          `E(N) = T(N) / ((N / ${base}) × T(${formatScale(base)})) at the same per-client level.`,
          `Dashed line: 100% = linear scaling; grey band: 100% ± ${formatTolerance(table.tolerance)}, what counts as linear.`,
        ];
  const x = levelAxis(group, levelTitle(group));
  const shown = group.scales.filter((s) => s !== base && group.experiments.has(s));
  const color = {
    field: "scale",
    type: "nominal",
    title: "Scale",
    scale: scaleColor(allScales(analysis), shown),
  };
  const y = { type: "quantitative", title: "Efficiency (%)", scale: { domain: [lo, hi] } };
  const band = table.tolerance * 100;
  const layers: object[] = [
    {
      // Its own single datum: with the chart's rows it would be drawn once per row, darker each time.
      data: { values: [{}] },
      mark: { type: "rect", color: "#999", opacity: 0.18 },
      encoding: { y: { ...y, datum: 100 - band }, y2: { datum: 100 + band } },
    },
    { mark: { type: "rule", strokeDash: [4, 4], color: "#333" }, encoding: { y: { ...y, datum: 100 } } },
    {
      mark: { type: "line", point: { size: 50, filled: true }, strokeWidth: 2 },
      encoding: {
        x,
        y: { ...y, field: "efficiency" },
        color,
        order: { field: "level", type: "quantitative" },
        description: TIP,
      },
    },
  ];
  if (rows.some((r) => r.low !== null)) {
    layers.push({
      mark: { type: "errorbar", ticks: true },
      encoding: {
        x,
        y: { ...y, field: "low" },
        y2: { field: "high" },
        color,
      },
    });
  }
  return {
    name: `efficiency-${slug(group.image)}`,
    title,
    spec: {
      $schema: SCHEMA,
      width: WIDTH,
      height: HEIGHT,
      title: { text: "Scaling efficiency", subtitle },
      data: { values: rows as never[] },
      layer: layers as never[],
      config: CONFIG,
    } as TopLevelSpec,
  };
}

/** Chart 3: latency percentiles against per-replica throughput, one line per scale, one panel per metric. */
export function latencyChart(analysis: ReportAnalysis, group: ImageGroup): ChartDef {
  const rows: object[] = [];
  for (const scale of group.scales) {
    for (const level of group.levels) {
      const l = cellAt(group, scale, level.key);
      if (!l) continue;
      for (const key of LATENCY_KEYS) {
        const ms = latencyValue(l, key);
        if (ms === undefined) continue;
        rows.push({
          scale: formatScale(scale),
          level: level.value,
          metric: LATENCY_LABELS[key],
          ms: round(ms, 2),
          perReplica: round(l.outputThroughput / scale),
          tip:
            `${group.image} ${formatScale(scale)}, ${levelText(level)}: ${LATENCY_LABELS[key]} ${formatMs(ms)} ms ` +
            `at ${formatThroughput(l.outputThroughput / scale)} tok/s per replica`,
        });
      }
    }
  }
  const averaged = [...group.cells.values()].some((m) =>
    [...m.values()].some((l) => l.method === "seed_sum" && l.clients > 1),
  );
  const title = `${imageTitle(group)}: latency vs throughput`;
  return {
    name: `latency-${slug(group.image)}`,
    title,
    spec: {
      $schema: SCHEMA,
      title: {
        text: "Latency vs throughput",
        subtitle: [
          imageTitle(group),
          averaged
            ? "Points are levels, left to right. Percentiles are means over clients (seed data), not pooled."
            : "Points are levels, left to right; where a line turns up, that scale saturates.",
        ],
      },
      data: { values: rows as never[] },
      facet: {
        field: "metric",
        type: "nominal",
        title: null,
        sort: LATENCY_KEYS.map((k) => LATENCY_LABELS[k]),
      },
      columns: 2,
      spec: {
        width: PANEL_WIDTH,
        height: PANEL_HEIGHT,
        mark: { type: "line", point: { size: 40, filled: true }, strokeWidth: 2 },
        encoding: {
          x: {
            field: "perReplica",
            type: "quantitative",
            title: "Output tokens/s per replica",
            axis: { tickCount: 5 },
          },
          y: { field: "ms", type: "quantitative", title: "ms", axis: { tickCount: 5 } },
          color: { field: "scale", type: "nominal", title: "Scale", scale: scaleColor(allScales(analysis)) },
          order: { field: "level", type: "quantitative" },
          description: TIP,
        },
      },
      resolve: { scale: { y: "independent" } },
      config: CONFIG,
    } as TopLevelSpec,
  };
}

/** Chart 4a: OSS and Turbo side by side, the seed's two plots on one shared axis. */
export function sideBySideChart(analysis: ReportAnalysis, comparison: Comparison): ChartDef {
  const groups = [comparison.oss, comparison.turbo].map(
    (name) => analysis.input.images.find((g) => g.image === name) as ImageGroup,
  );
  const rows = groups.flatMap((g) => throughputRows(analysis, g));
  const title = "Open-source Ray vs Anyscale runtime: output throughput per replica";
  const levels = { levels: comparison.levels };
  return {
    name: `side-by-side-${slug(comparison.oss)}-${slug(comparison.turbo)}`,
    title,
    spec: {
      $schema: SCHEMA,
      title: {
        text: "Output throughput per replica: OSS vs Turbo",
        subtitle: "Same axes; one line per scale.",
      },
      data: { values: rows as never[] },
      facet: { field: "image", type: "nominal", title: null, sort: groups.map((g) => imageTitle(g)) },
      spec: {
        width: PANEL_WIDTH + 60,
        height: PANEL_HEIGHT + 70,
        mark: { type: "line", point: { size: 40, filled: true }, strokeWidth: 2 },
        encoding: {
          x: levelAxis(levels, levelTitle(groups[0] as ImageGroup)),
          y: { field: "perReplica", type: "quantitative", title: "Output tokens/s per replica" },
          color: { field: "scale", type: "nominal", title: "Scale", scale: scaleColor(allScales(analysis)) },
          order: { field: "level", type: "quantitative" },
          description: TIP,
        },
      },
      config: CONFIG,
    } as TopLevelSpec,
  };
}

/**
 * Chart 4b: Turbo's throughput relative to OSS per level and scale, each with its 95% interval
 * from the repeats of both sides, and the band ±tolerance that the verdicts treat as "the same"
 * shaded. Without repeats there are no intervals to draw, and the subtitle says so.
 */
export function changeChart(analysis: ReportAnalysis, comparison: Comparison): ChartDef {
  const percent = (ratio: number) => round((ratio - 1) * 100, 2);
  const rows = comparison.cells.flatMap((c) => {
    const t = c.throughput;
    if (!t) return [];
    return [
      {
        scale: formatScale(c.scale),
        level: c.level.value,
        change: percent(t.ratio),
        low: t.interval ? percent(t.interval[0]) : null,
        high: t.interval ? percent(t.interval[1]) : null,
        tip: `${formatScale(c.scale)}, ${levelText(c.level)}: Turbo ${formatRatio(t)} output tok/s vs OSS`,
      },
    ];
  });
  const band = analysis.tolerance * 100;
  const withIntervals = rows.some((r) => r.low !== null);
  const values = rows.flatMap((r) => [r.change, r.low, r.high]).filter((v): v is number => v !== null);
  const span = Math.max(band * 2, ...values.map((v) => Math.abs(v) + 2));
  const title = "Anyscale runtime vs open-source Ray: output throughput";
  const x = levelAxis({ levels: comparison.levels }, levelTitle({ levels: comparison.levels }));
  const y = {
    type: "quantitative" as const,
    title: "Turbo vs OSS, output tok/s (%)",
    scale: { domain: [-span, span] },
  };
  const color = {
    field: "scale",
    type: "nominal" as const,
    title: "Scale",
    scale: scaleColor(allScales(analysis)),
  };
  return {
    name: `turbo-vs-oss-${slug(comparison.oss)}-${slug(comparison.turbo)}`,
    title,
    spec: {
      $schema: SCHEMA,
      width: WIDTH,
      height: HEIGHT,
      title: {
        text: "Turbo vs OSS: output throughput",
        subtitle: [
          "Turbo relative to OSS at the same scale and level; above 0 = Turbo faster.",
          `Grey band: ±${formatTolerance(analysis.tolerance)}, what the verdicts count as the same. ` +
            (withIntervals
              ? "Bars: 95% intervals from the repeats."
              : `No intervals: ${NOISE_NOT_MEASURED}.`),
        ],
      },
      layer: [
        {
          data: { values: [{}] },
          mark: { type: "rect" as const, color: "#999", opacity: 0.18 },
          encoding: { y: { ...y, datum: -band }, y2: { datum: band } },
        },
        { mark: { type: "rule", color: "#333" }, encoding: { y: { datum: 0 } } },
        {
          data: { values: rows },
          layer: [
            {
              mark: { type: "line", point: { size: 50, filled: true }, strokeWidth: 2 },
              encoding: {
                x,
                y: { ...y, field: "change" },
                color,
                order: { field: "level", type: "quantitative" },
                description: TIP,
              },
            },
            ...(withIntervals
              ? [
                  {
                    mark: { type: "errorbar" as const, ticks: true },
                    encoding: { x, y: { ...y, field: "low" }, y2: { field: "high" }, color },
                  },
                ]
              : []),
          ],
        },
      ],
      config: CONFIG,
    } as TopLevelSpec,
  };
}

/** Every chart of the report, in the order the report shows them. */
export function reportCharts(analysis: ReportAnalysis): ChartDef[] {
  const verdicts = verdictChart(analysis);
  const charts: ChartDef[] = verdicts ? [verdicts] : [];
  analysis.input.images.forEach((group, i) => {
    charts.push(throughputPerReplicaChart(analysis, group));
    const table = analysis.scaling[i];
    if (table && group.experiments.size > 1) charts.push(efficiencyChart(analysis, group, table));
    charts.push(latencyChart(analysis, group));
    const capacity = analysis.capacity[i];
    if (capacity && capacity.scales.length > 0) charts.push(capacityChart(analysis, group, capacity));
  });
  for (const comparison of analysis.comparisons) {
    charts.push(sideBySideChart(analysis, comparison), changeChart(analysis, comparison));
  }
  // The seed plotted concurrency levels only; its plot means nothing for request rates.
  for (const group of analysis.input.images) {
    if (group.levels.every((l) => l.mode === "concurrency")) charts.push(seedStyleChart(analysis, group));
  }
  return charts;
}
