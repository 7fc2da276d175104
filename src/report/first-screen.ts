import type { ReportAnalysis } from "./analysis.js";
import { type Comparison, formatRatio, LATENCY_LABELS, type ScaleVerdict } from "./compare.js";
import {
  formatEfficiency,
  formatEfficiencyInterval,
  formatLevel,
  formatScale,
  levelHeading,
  MISSING,
} from "./format.js";
import type { ImageGroup } from "./input.js";
import { verdictShort } from "./noise.js";
import { legend, type Table, type TableCell } from "./table-model.js";
import { formatRepeats, formatTolerance } from "./verdict.js";
import { warningsAt } from "./warnings.js";

/**
 * What the report opens with: the answer as two tables a reader can take in at a glance. One row
 * per image × scale × level with E(N), its interval, the verdict and what would settle an
 * inconclusive one; then OSS vs Turbo per scale, the geometric mean of the level ratios with its
 * own interval. The terminal (`orchestrate run`, `report`) prints the same tables.
 */

const SHORT_VERDICT: Record<ScaleVerdict["kind"], (tolerance: number) => string> = {
  equivalent: (t) => `same ±${formatTolerance(t)}`,
  turbo_higher: () => "Turbo higher",
  turbo_lower: () => "Turbo lower",
  inconclusive: () => "inconclusive",
  mixed: () => "mixed",
  no_spread: () => "no spread measured",
  noise_unmeasured: () => "noise not measured",
  no_data: () => "not compared",
};

export function verdictTableView(analysis: ReportAnalysis): Table {
  const mode = analysis.input.images[0]?.levels[0]?.mode ?? "concurrency";
  const rows: TableCell[][] = [];
  analysis.input.images.forEach((group, i) => {
    const table = analysis.scaling[i];
    if (!table || table.baseScale === undefined) return;
    const base = table.baseScale;
    for (const scale of table.scales.filter((s) => s !== base)) {
      const apart = measuredApart(group, base, group, scale);
      for (const row of table.rows) {
        const point = row.points.find((p) => p.scale === scale);
        const j = point?.judgement;
        const warnings = [
          ...warningsAt(analysis.warnings, group.image, scale, row.level.key),
          ...warningsAt(analysis.warnings, group.image, base, row.level.key),
        ];
        rows.push([
          { text: group.image },
          { text: formatScale(scale) },
          { text: formatLevel(row.level) },
          point?.efficiency === undefined
            ? { text: MISSING, missing: true }
            : warnings.length > 0
              ? { text: formatEfficiency(point.efficiency), warnings }
              : { text: formatEfficiency(point.efficiency) },
          {
            text: j?.interval ? formatEfficiencyInterval(j.interval) : "",
          },
          { text: j ? verdictShort(j) : "" },
          { text: j?.settle ? formatRepeats(j.settle) : "" },
          { text: apart },
        ]);
      }
    }
  });
  const tolerance = formatTolerance(analysis.tolerance);
  return {
    id: "verdicts",
    title: "Does it scale? E(N) per level",
    notes: [
      `E(N) = T(N) / ((N / N₀) × T(N₀)): 100% is linear scaling. The verdict follows E's 95% interval against 100% ± ${tolerance}: ` +
        `linear when it lies inside; sub-linear (by at least the gap to its top) or superlinear when it lies wholly below or above 100%; ` +
        "inconclusive when it holds 100% and reaches outside, with the repeats per scale that would settle it at the spread measured " +
        "(in brackets, that count's own 95% range: a spread measured from few repeats is itself uncertain).",
    ],
    columns: [
      { label: "Image", numeric: false },
      { label: "Scale", numeric: false },
      { label: levelHeading(mode), numeric: true },
      { label: "E(N)", numeric: true },
      { label: "95% interval", numeric: true },
      { label: "Verdict", numeric: false },
      { label: "Repeats to settle", numeric: true },
      { label: "N₀ and N measured apart", numeric: true },
    ],
    rows,
    footnotes: legend(rows, ...coverageNotes(analysis)),
  };
}

/** One row per compared scale: Turbo / OSS as the geometric mean over the levels, with its own interval. */
export function comparisonSummaryView(analysis: ReportAnalysis, comparison: Comparison): Table {
  const oss = groupNamed(analysis, comparison.oss);
  const turbo = groupNamed(analysis, comparison.turbo);
  const rows = comparison.verdicts.map((v): TableCell[] => [
    { text: formatScale(v.scale) },
    { text: String(v.levelsCompared) },
    { text: formatRatio(v.throughput) },
    { text: SHORT_VERDICT[v.kind](v.tolerance) },
    { text: v.settle ? formatRepeats(v.settle) : "" },
    { text: formatRatio(v.latency.ttft_p99) },
    { text: formatRatio(v.latency.tpot_p50) },
    { text: measuredApart(oss, v.scale, turbo, v.scale) },
  ]);
  return {
    id: `verdicts-${comparison.oss}-${comparison.turbo}`,
    title: `Is Turbo different? ${comparison.turbo} vs ${comparison.oss}`,
    notes: [
      "Turbo relative to OSS at the same scale: the geometric mean over the levels measured on both, in brackets its 95% interval " +
        `(from the repeats of every level on both sides). The same rule as E(N): "same" when the interval lies inside ±${formatTolerance(analysis.tolerance)}, ` +
        "higher or lower when it lies wholly beyond 0, inconclusive otherwise; mixed when some levels are clearly higher and others clearly lower.",
    ],
    columns: [
      { label: "Scale", numeric: false },
      { label: "Levels", numeric: true },
      { label: "Throughput Turbo vs OSS", numeric: true },
      { label: "Verdict", numeric: false },
      { label: "Repeats to settle", numeric: true },
      { label: `${LATENCY_LABELS.ttft_p99} Turbo vs OSS`, numeric: true },
      { label: `${LATENCY_LABELS.tpot_p50} Turbo vs OSS`, numeric: true },
      { label: "Measured apart", numeric: true },
    ],
    rows,
    footnotes: [],
  };
}

/**
 * What the intervals cover, said once: the repeats ran inside one deployment of each scale, so a
 * redeployment's difference (another node, another warm-up, another neighbour) is not in them,
 * and things measured far apart in time differ for reasons that are not the images.
 */
function coverageNotes(analysis: ReportAnalysis): string[] {
  const repeated = analysis.scaling.some((t) => t.rows.some((r) => r.points.some((p) => p.spread)));
  if (!repeated) return [];
  return [
    "The intervals come from repeats within one deployment of each scale: they do not include the variation between " +
      "deployments, nor drift between measurements taken far apart (the last column says how far).",
  ];
}

/** How long apart two cells' measurements started: "8 min", "2 h 5 min"; empty when a side does not say. */
export function measuredApart(a: ImageGroup, scaleA: number, b: ImageGroup, scaleB: number): string {
  const start = (g: ImageGroup, s: number) => {
    const at = g.experiments.get(s)?.[0]?.startedAt;
    const ms = at ? Date.parse(at) : Number.NaN;
    return Number.isFinite(ms) ? ms : undefined;
  };
  const from = start(a, scaleA);
  const to = start(b, scaleB);
  if (from === undefined || to === undefined) return "";
  const minutes = Math.round(Math.abs(to - from) / 60_000);
  if (minutes < 1) return "< 1 min";
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function groupNamed(analysis: ReportAnalysis, image: string): ImageGroup {
  const group = analysis.input.images.find((g) => g.image === image);
  if (!group) throw new Error(`no image ${image} in the report input`);
  return group;
}
