import {
  type CapacityEstimate,
  type CapacityTable,
  capacityValue,
  describeCriterion,
  type ReplicasNeeded,
  type ScaleCapacity,
} from "./capacity.js";
import {
  formatEfficiency,
  formatEfficiencyInterval,
  formatLevel,
  formatScale,
  formatThroughput,
  MISSING,
} from "./format.js";
import { verdictShort } from "./noise.js";
import type { Table, TableCell } from "./table-model.js";
import { formatRepeats, formatTolerance } from "./verdict.js";

/**
 * Capacity under the SLO as tables and words: per image and scale the capacity per replica with
 * its interval (or where it lies when the levels do not bracket it), the capacity efficiency and
 * its verdict, and the replicas needed for the target rate. Reads only capacity.ts's results.
 */

/** "3.42 req/s", "above 5.10 req/s (the highest level measured)". */
export function formatCapacity(estimate: CapacityEstimate, value: number | undefined): string {
  switch (estimate.kind) {
    case "between":
      return `${formatThroughput(value ?? estimate.value)} req/s`;
    case "above_highest":
      return `above ${formatThroughput(estimate.highest.load)} req/s (the highest level measured)`;
    case "below_lowest":
      return `below ${formatThroughput(estimate.lowest.load)} req/s (the lowest level measured)`;
    case "unmeasured":
      return MISSING;
  }
}

function intervalText(s: ScaleCapacity): string {
  if (s.repeats) {
    const { mean, ci95 } = s.repeats;
    return `${formatThroughput(mean - ci95)} – ${formatThroughput(mean + ci95)}`;
  }
  return s.estimate.kind === "between" ? (s.noInterval ?? "") : "";
}

function bracketText(estimate: CapacityEstimate): string {
  if (estimate.kind !== "between") return "";
  return `${formatLevel(estimate.lower.level)} – ${formatLevel(estimate.upper.level)}`;
}

export function capacityTableView(table: CapacityTable, tolerance: number): Table {
  const rows = table.scales.map((s): TableCell[] => {
    const value = capacityValue(s);
    return [
      { text: formatScale(s.scale) },
      value === undefined && s.estimate.kind === "unmeasured"
        ? { text: MISSING, missing: true }
        : { text: formatCapacity(s.estimate, value) },
      { text: intervalText(s) },
      { text: bracketText(s.estimate) },
      { text: value === undefined ? MISSING : `${formatThroughput(value * s.scale)} req/s` },
      { text: s.scale === table.baseScale ? "base" : formatEfficiency(s.efficiency) },
      { text: s.judgement ? verdictShort(s.judgement) : "" },
      { text: s.judgement?.settle ? formatRepeats(s.judgement.settle) : "" },
    ];
  });
  return {
    id: `capacity-${table.image}`,
    title: `Capacity at ${describeCriterion(table.criterion)}: ${table.image}`,
    notes: [
      "Capacity: the largest request throughput per replica at which a level still meets the SLO, interpolated on a straight " +
        "line between the last level that meets it and the first that does not (the levels column). With repeats, it is found " +
        "in each repeat and the interval is Student's t over them. When no two measured levels bracket it, the table says " +
        "whether it lies above the highest or below the lowest level measured: measure further levels to find it.",
      `Capacity efficiency = C(N) / ((N / N₀) × C(N₀)) on total capacity, judged like E(N) against 100% ± ${formatTolerance(tolerance)}.`,
    ],
    columns: [
      { label: "Scale", numeric: false },
      { label: "Capacity per replica", numeric: true },
      { label: "95% interval", numeric: true },
      { label: "Between levels", numeric: true },
      { label: "Total capacity", numeric: true },
      { label: "Capacity efficiency", numeric: true },
      { label: "Verdict", numeric: false },
      { label: "Repeats to settle", numeric: true },
    ],
    rows,
    footnotes: [],
  };
}

/** "rayoss-251: 12 replicas (10–15) for 40 req/s, extrapolated from the 4x capacity per replica". */
export function replicasNeededLine(needed: ReplicasNeeded): string {
  const range = needed.range
    ? ` (${needed.range[0]}–${Number.isFinite(needed.range[1]) ? needed.range[1] : "∞"} over the capacity's 95% interval)`
    : "";
  return (
    `${needed.image}: ${needed.replicas} replicas${range} to carry ${formatThroughput(needed.targetRate)} req/s at this SLO, ` +
    `extrapolated linearly from the capacity per replica measured at ${formatScale(needed.fromScale)}; ` +
    "a capacity efficiency below 100% means more would be needed at larger scales."
  );
}

/**
 * The first screen's capacity answer, when the SLO has a criterion: per image and scale above N₀,
 * the capacity efficiency, its interval and verdict, beside the capacity per replica it compares.
 */
export function capacityVerdictView(tables: readonly CapacityTable[], tolerance: number): Table {
  const rows: TableCell[][] = tables.flatMap((table) =>
    table.baseScale === undefined ? unbracketedRows(table) : comparedRows(table),
  );
  const criteria = [...new Set(tables.map((t) => describeCriterion(t.criterion)))].join("; ");
  return {
    id: "capacity-verdicts",
    title: `Does capacity scale? At ${criteria}`,
    notes: [
      `Capacity efficiency C(N) / ((N / N₀) × C(N₀)): 100% when each replica carries as much load at the SLO as at N₀. ` +
        `The same verdict rule as E(N), against 100% ± ${formatTolerance(tolerance)}.`,
    ],
    columns: [
      { label: "Image", numeric: false },
      { label: "Scale", numeric: false },
      { label: "Capacity per replica", numeric: true },
      { label: "At N₀", numeric: true },
      { label: "Capacity efficiency", numeric: true },
      { label: "95% interval", numeric: true },
      { label: "Verdict", numeric: false },
      { label: "Repeats to settle", numeric: true },
    ],
    rows,
    footnotes: [],
  };
}

/** Each scale above N₀ against N₀. */
function comparedRows(table: CapacityTable): TableCell[][] {
  const base = table.scales.find((b) => b.scale === table.baseScale) as ScaleCapacity;
  return table.scales
    .filter((s) => s.scale > base.scale)
    .map((s): TableCell[] => {
      const j = s.judgement;
      return [
        { text: table.image },
        { text: formatScale(s.scale) },
        { text: formatCapacity(s.estimate, capacityValue(s)) },
        { text: `${formatCapacity(base.estimate, capacityValue(base))} at ${formatScale(base.scale)}` },
        s.efficiency === undefined
          ? { text: MISSING, missing: true }
          : { text: formatEfficiency(s.efficiency) },
        { text: j?.interval ? formatEfficiencyInterval(j.interval) : "" },
        { text: j ? verdictShort(j) : "not bracketed: measure further levels" },
        { text: j?.settle ? formatRepeats(j.settle) : "" },
      ];
    });
}

/**
 * No scale's levels bracket its capacity, so there is no N₀ to compare with: each scale still
 * says where its capacity lies (above the highest level, below the lowest), so the first screen
 * never shows an empty table.
 */
function unbracketedRows(table: CapacityTable): TableCell[][] {
  return table.scales.map((s): TableCell[] => [
    { text: table.image },
    { text: formatScale(s.scale) },
    { text: formatCapacity(s.estimate, capacityValue(s)) },
    { text: MISSING, missing: true },
    { text: MISSING, missing: true },
    { text: "" },
    { text: "no scale bracketed: measure levels on both sides of the SLO" },
    { text: "" },
  ]);
}
