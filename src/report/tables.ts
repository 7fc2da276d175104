import type { LevelSummary } from "../model/types.js";
import type { ReportAnalysis } from "./analysis.js";
import { type Comparison, formatRatio, LATENCY_KEYS, LATENCY_LABELS, latencyValue } from "./compare.js";
import {
  formatCount,
  formatEfficiency,
  formatLevel,
  formatMs,
  formatPlusMinusPercent,
  formatScale,
  formatSpeedup,
  formatThroughput,
  imageTitle,
  levelHeading,
  MISSING,
} from "./format.js";
import { cellAt, clientsAt, type ImageGroup } from "./input.js";
import { NOISE_NOT_MEASURED, verdictShort } from "./noise.js";
import { type ScalingTable, THROUGHPUT_METRICS } from "./scaling.js";
import { type Column, legend, slug, type Table, type TableCell } from "./table-model.js";
import { formatTolerance } from "./verdict.js";
import { broadWarnings, type ReportWarning, WARNING_KINDS, warningsAt } from "./warnings.js";

/** The report's tables beyond the first screen: scaling per image, every measurement, OSS vs Turbo per level. */

const missing = (): TableCell => ({ text: MISSING, missing: true });

function value(text: string, warnings: ReportWarning[] = []): TableCell {
  if (text === MISSING) return missing();
  return warnings.length > 0 ? { text, warnings } : { text };
}

export function scalingTableView(analysis: ReportAnalysis, table: ScalingTable): Table {
  const group = groupOf(analysis, table.image);
  const info = THROUGHPUT_METRICS[table.metric];
  const base = table.baseScale;
  const columns: Column[] = [
    { label: levelHeading(table.rows[0]?.level.mode ?? "concurrency"), numeric: true },
  ];
  for (const scale of table.scales) {
    columns.push({ label: `T ${formatScale(scale)} (${info.unit})`, numeric: true });
    if (base !== undefined && scale !== base) {
      columns.push(
        { label: `S ${formatScale(scale)}`, numeric: true },
        { label: `E ${formatScale(scale)}`, numeric: true },
      );
    }
  }
  let repeated = false;
  const rows = table.rows.map((row) => {
    const cells: TableCell[] = [{ text: formatLevel(row.level) }];
    for (const point of row.points) {
      let text = formatThroughput(point.throughput);
      if (point.spread && point.throughput) {
        text += ` ${formatPlusMinusPercent(point.spread.ci95 / point.spread.mean)}`;
        repeated = true;
      }
      cells.push(value(text, warningsAt(analysis.warnings, table.image, point.scale, row.level.key)));
      if (base !== undefined && point.scale !== base) {
        cells.push(value(formatSpeedup(point.speedup)));
        let efficiency = formatEfficiency(point.efficiency);
        const judgement = point.judgement;
        if (judgement && efficiency !== MISSING && judgement.verdict !== "unmeasured") {
          if (point.efficiencyCi95 !== undefined)
            efficiency += ` ±${(point.efficiencyCi95 * 100).toFixed(1)}`;
          // The short form: the verdict table above has the words in full, and three scales of
          // full sentences would push the table past a 1200 px window.
          efficiency += ` ${verdictShort(judgement)}`;
        }
        cells.push(value(efficiency));
      }
    }
    return cells;
  });

  const notes: string[] = [];
  if (base === undefined) notes.push("Nothing was measured for this image.");
  else {
    const unmeasured = table.scales.filter((s) => s < base);
    notes.push(
      `T(N) = ${info.label} of all replicas at scale N; S(N) = T(N) / T(${formatScale(base)}); ` +
        `E(N) = S(N) / (N / ${base}), so linear scaling is E = 100%. N₀ = ${formatScale(base)}, the smallest scale measured` +
        (unmeasured.length > 0
          ? ` (${unmeasured.map(formatScale).join(", ")} planned but not measured).`
          : "."),
    );
  }
  notes.push(...superlinearNotes(table), ...broadNotes(analysis, group));
  const footnotes = legend(
    rows,
    ...(repeated
      ? [
          "± = 95% confidence interval from repeated runs: T(N) Student's t over its repeats; E(N) the relative errors of " +
            "T(N) and T(N₀) in quadrature (delta method, Welch degrees of freedom). The words follow E's interval against " +
            `100% ± ${formatTolerance(table.tolerance)}: linear when it lies inside, sub-linear below 100%, superlinear ` +
            "(suspect) above, inconclusive when it holds 100% and reaches outside.",
        ]
      : base !== undefined && table.scales.length > 1
        ? [`E(N) has no interval: ${NOISE_NOT_MEASURED}.`]
        : []),
  );
  return {
    id: `${table.metric === "output_throughput" ? "scaling" : "goodput"}-${slug(table.image)}`,
    title: `${imageTitle(group)}: ${info.label} scaling`,
    notes,
    columns,
    rows,
    footnotes,
  };
}

/** Every measurement of one image, one row per scale × level (missing ones included, as missing). */
export function measurementsTableView(analysis: ReportAnalysis, group: ImageGroup): Table {
  const columns: Column[] = [
    { label: "Scale", numeric: false },
    { label: levelHeading(group.levels[0]?.mode ?? "concurrency"), numeric: true },
    { label: "Clients", numeric: true },
    { label: "Repeats", numeric: false },
    { label: "Completed / requested", numeric: true },
    { label: "Output tok/s", numeric: true },
    { label: "per replica", numeric: true },
    { label: "Req/s", numeric: true },
    ...LATENCY_KEYS.map((k) => ({ label: `${LATENCY_LABELS[k]} ms`, numeric: true })),
    { label: "ITL p50 ms", numeric: true },
    { label: "E2EL p99 ms", numeric: true },
  ];
  const rows: TableCell[][] = [];
  for (const scale of group.scales) {
    for (const level of group.levels) {
      const l = cellAt(group, scale, level.key);
      const head = [{ text: formatScale(scale) }, { text: formatLevel(level) }];
      if (!l) {
        rows.push([...head, ...columns.slice(2).map(missing)]);
        continue;
      }
      const warnings = warningsAt(analysis.warnings, group.image, scale, level.key);
      rows.push([
        ...head,
        { text: String(l.clients ?? clientsAt(group, scale)) },
        { text: repeatsText(l) },
        value(`${formatCount(l.completed)} / ${formatCount(l.numPrompts)}`, warnings),
        value(formatThroughput(l.outputThroughput)),
        value(formatThroughput(l.outputThroughput / scale)),
        value(formatThroughput(l.requestThroughput)),
        ...LATENCY_KEYS.map((k) => value(formatMs(latencyValue(l, k)))),
        value(formatMs(l.latency.itl?.p50 ?? l.latency.itl?.median)),
        value(formatMs(l.latency.e2el?.p99)),
      ]);
    }
  }
  const methods = new Set([...group.cells.values()].flatMap((m) => [...m.values()].map((l) => l.method)));
  const notes = methods.has("seed_sum")
    ? [
        "Aggregated the seed's way (vLLM files carry no raw samples): throughputs are sums over clients, latencies are means of the clients' statistics.",
      ]
    : ["Throughput over the shared measurement window; percentiles from the pooled samples of every client."];
  return {
    id: `measurements-${slug(group.image)}`,
    title: `${imageTitle(group)}: every measurement`,
    notes,
    columns,
    rows,
    footnotes: legend(rows),
  };
}

/** "3", or with a target: "4, sure (±2.1% ≤ ±3%)" / "10, at most (±4.2% > ±3%)". */
function repeatsText(level: LevelSummary): string {
  const n = String(level.repeats?.length ?? 1);
  const stop = level.repeatsStop;
  if (!stop) return n;
  const ci = stop.ciRelative === null ? "no interval" : formatPlusMinusPercent(stop.ciRelative);
  const target = formatPlusMinusPercent(stop.targetCi);
  return stop.reason === "target_reached"
    ? `${n}, sure (${ci} ≤ ${target})`
    : `${n}, at most (${ci} > ${target})`;
}

export function comparisonTableView(analysis: ReportAnalysis, comparison: Comparison): Table {
  const oss = groupOf(analysis, comparison.oss);
  const turbo = groupOf(analysis, comparison.turbo);
  const columns: Column[] = [
    { label: "Scale", numeric: false },
    { label: levelHeading(comparison.levels[0]?.mode ?? "concurrency"), numeric: true },
    { label: "OSS tok/s", numeric: true },
    { label: "Turbo tok/s", numeric: true },
    { label: "Throughput Turbo vs OSS", numeric: true },
    ...LATENCY_KEYS.map((k) => ({ label: `${LATENCY_LABELS[k]} Turbo vs OSS`, numeric: true })),
  ];
  const rows = comparison.cells.map((cell): TableCell[] => {
    const o = cellAt(oss, cell.scale, cell.level.key);
    const t = cellAt(turbo, cell.scale, cell.level.key);
    return [
      { text: formatScale(cell.scale) },
      { text: formatLevel(cell.level) },
      value(
        formatThroughput(o?.outputThroughput),
        warningsAt(analysis.warnings, oss.image, cell.scale, cell.level.key),
      ),
      value(
        formatThroughput(t?.outputThroughput),
        warningsAt(analysis.warnings, turbo.image, cell.scale, cell.level.key),
      ),
      value(formatRatio(cell.throughput)),
      ...LATENCY_KEYS.map((k) => value(formatRatio(cell.latency[k]))),
    ];
  });
  return {
    id: `compare-${slug(comparison.oss)}-${slug(comparison.turbo)}`,
    title: `${imageTitle(turbo)} vs ${imageTitle(oss)}`,
    notes: [
      "Changes are Turbo relative to OSS at the same scale and level: + throughput is better for Turbo, − latency is better for Turbo. " +
        "In brackets, the 95% interval from the repeats of both sides, where both were repeated.",
    ],
    columns,
    rows,
    footnotes: legend(rows),
  };
}

/**
 * Efficiency above 100% is a finding about the measurement before it is one about the server. With
 * repeats only an interval wholly above 100% counts; without them any E above 100% is named, with
 * the reminder that its noise is unknown (no band is assumed).
 */
function superlinearNotes(table: ScalingTable): string[] {
  const notes: string[] = [];
  for (const scale of table.scales) {
    const points = table.rows.map((r) => ({ r, p: r.points.find((p) => p.scale === scale) }));
    const suspect = points.filter(({ p }) => p?.judgement?.verdict === "superlinear_suspect");
    const unmeasuredAbove = points.filter(
      ({ p }) =>
        p?.efficiency !== undefined &&
        p.efficiency > 1 &&
        (p.judgement?.verdict === "unmeasured" || p.judgement?.verdict === "no_spread"),
    );
    if (table.baseScale === undefined) continue;
    const because =
      `Identical replicas should not do better than linear; this usually means ${formatScale(table.baseScale)} ` +
      "fell short (failed or incomplete requests, a noisy run) or the runs differed.";
    if (suspect.length > 0) {
      const levels = suspect.map(({ r }) => formatLevel(r.level));
      notes.push(
        `Note: E(${formatScale(scale)}) is superlinear, suspect, at ${levels.length} level${levels.length === 1 ? "" : "s"} ` +
          `(${levels.join(", ")}): the whole 95% interval lies above 100%. ${because}`,
      );
    }
    if (unmeasuredAbove.length > 0) {
      const levels = unmeasuredAbove.map(({ r }) => formatLevel(r.level));
      notes.push(
        `Note: E(${formatScale(scale)}) is above ${formatEfficiency(1)} at ${levels.length} level${levels.length === 1 ? "" : "s"} ` +
          `(${levels.join(", ")}); ${NOISE_NOT_MEASURED}, so this may be noise. ${because}`,
      );
    }
  }
  return notes;
}

function broadNotes(analysis: ReportAnalysis, group: ImageGroup): string[] {
  const runWide = analysis.warnings.filter((w) => w.level === undefined && w.image === undefined);
  return [...runWide, ...broadWarnings(analysis.warnings, group.image)].map(
    (w) =>
      `⚠ ${WARNING_KINDS[w.kind].title}${w.scale !== undefined ? ` (${formatScale(w.scale)})` : ""}: ${w.message}`,
  );
}

export function groupOf(analysis: ReportAnalysis, image: string): ImageGroup {
  const group = analysis.input.images.find((g) => g.image === image);
  if (!group) throw new Error(`no image ${image} in the report input`);
  return group;
}
