/**
 * Measured vs the twin: a run whose plan names a simulator profile saves what the twin predicted
 * for it (twin.json in the run folder, written before anything was deployed), and the report sets
 * every measured level beside its prediction. Throughput or median TPOT more than 20% away from the
 * prediction is a data-quality warning: either the service was not configured as the plan says,
 * or the profile does not describe this hardware and model.
 *
 * TTFT is shown but not judged: it is the figure the calibration fits least well (docs/simulator.md).
 */
import { z } from "zod";
import { readJsonFile } from "../json-file.js";
import { formatChange, formatMs, formatScale, formatThroughput } from "./format.js";
import type { ReportInput } from "./input.js";
import type { Table, TableCell } from "./table-model.js";
import type { ReportWarning } from "./warnings.js";

export const TWIN_FILE = "twin.json";
/** Beyond this relative deviation, a measured figure "differs from the twin". */
export const TWIN_TOLERANCE = 0.2;

const levelSchema = z.looseObject({
  concurrency: z.number(),
  output_throughput: z.number(),
  median_ttft_ms: z.number(),
  median_tpot_ms: z.number(),
});

export const twinPredictionSchema = z.looseObject({
  profile: z.looseObject({ name: z.string(), path: z.string(), speedup: z.number() }),
  cells: z.array(
    z.looseObject({
      image: z.string(),
      replicas: z.number(),
      levels: z.array(levelSchema),
    }),
  ),
});

export type TwinPrediction = z.output<typeof twinPredictionSchema>;

export async function readTwinPrediction(path: string): Promise<TwinPrediction> {
  return readJsonFile(path, twinPredictionSchema, "a twin prediction (orchestrate run writes twin.json)");
}

export interface TwinRow {
  image: string;
  scale: number;
  level: string;
  concurrency: number;
  measured: { throughput: number; tpotMs?: number; ttftMs?: number };
  predicted: { throughput: number; tpotMs: number; ttftMs: number };
}

/** Every measured concurrency level that the twin predicted, in report order. */
export function twinRows(input: ReportInput, twin: TwinPrediction): TwinRow[] {
  const rows: TwinRow[] = [];
  for (const group of input.images) {
    for (const scale of group.scales) {
      const cell = twin.cells.find((c) => c.image === group.image && c.replicas === scale);
      for (const [key, level] of group.cells.get(scale) ?? []) {
        const predicted =
          level.concurrency === undefined
            ? undefined
            : cell?.levels.find((l) => l.concurrency === level.concurrency);
        if (!predicted || level.concurrency === undefined) continue;
        const measured: TwinRow["measured"] = { throughput: level.outputThroughput };
        if (level.latency.tpot) measured.tpotMs = level.latency.tpot.median;
        if (level.latency.ttft) measured.ttftMs = level.latency.ttft.median;
        rows.push({
          image: group.image,
          scale,
          level: key,
          concurrency: level.concurrency,
          measured,
          predicted: {
            throughput: predicted.output_throughput,
            tpotMs: predicted.median_tpot_ms,
            ttftMs: predicted.median_ttft_ms,
          },
        });
      }
    }
  }
  return rows;
}

export function twinWarnings(rows: readonly TwinRow[]): ReportWarning[] {
  const warnings: ReportWarning[] = [];
  for (const row of rows) {
    const off: string[] = [];
    const judge = (what: string, measured: number | undefined, predicted: number, unit: string) => {
      if (measured === undefined || !(predicted > 0)) return;
      if (Math.abs(measured / predicted - 1) > TWIN_TOLERANCE) {
        off.push(
          `${what} ${round(measured)} ${unit} measured, ${round(predicted)} predicted (${formatChange(measured / predicted)})`,
        );
      }
    };
    judge("output throughput", row.measured.throughput, row.predicted.throughput, "tok/s");
    judge("median TPOT", row.measured.tpotMs, row.predicted.tpotMs, "ms");
    if (off.length === 0) continue;
    warnings.push({
      kind: "twin_deviation",
      image: row.image,
      scale: row.scale,
      level: row.level,
      message: `${row.level}: ${off.join("; ")}: differs from the twin: check the configuration or the profile.`,
    });
  }
  return warnings;
}

export function twinTableView(
  rows: readonly TwinRow[],
  warnings: readonly ReportWarning[],
  twin: TwinPrediction,
): Table {
  const cell = (text: string): TableCell => ({ text });
  const flagged = (row: TwinRow) =>
    warnings.filter(
      (w) =>
        w.kind === "twin_deviation" &&
        w.image === row.image &&
        w.scale === row.scale &&
        w.level === row.level,
    );
  const speed = twin.profile.speedup !== 1 ? `, run ${twin.profile.speedup}× faster than measured` : "";
  return {
    id: "twin",
    title: "Every level, measured and predicted",
    notes: [
      `Predicted before the run by the simulator with the profile ${twin.profile.name}${speed} (orchestrate predict). ` +
        `Throughput or median TPOT more than ${TWIN_TOLERANCE * 100}% away from the prediction is flagged.`,
    ],
    columns: [
      { label: "Image", numeric: false },
      { label: "Scale", numeric: true },
      { label: "Concurrency", numeric: true },
      { label: "tok/s measured", numeric: true },
      { label: "tok/s twin", numeric: true },
      { label: "Δ", numeric: true },
      { label: "TPOT p50 measured (ms)", numeric: true },
      { label: "TPOT p50 twin (ms)", numeric: true },
      { label: "Δ", numeric: true },
      { label: "TTFT p50 measured (ms)", numeric: true },
      { label: "TTFT p50 twin (ms)", numeric: true },
    ],
    rows: rows.map((row) => {
      const warn = flagged(row);
      const throughputDelta = cell(formatChange(row.measured.throughput / row.predicted.throughput));
      if (warn.length > 0) throughputDelta.warnings = warn;
      return [
        cell(row.image),
        cell(formatScale(row.scale)),
        cell(String(row.concurrency)),
        cell(formatThroughput(row.measured.throughput)),
        cell(formatThroughput(row.predicted.throughput)),
        throughputDelta,
        cell(formatMs(row.measured.tpotMs)),
        cell(formatMs(row.predicted.tpotMs)),
        cell(
          row.measured.tpotMs === undefined ? "—" : formatChange(row.measured.tpotMs / row.predicted.tpotMs),
        ),
        cell(formatMs(row.measured.ttftMs)),
        cell(formatMs(row.predicted.ttftMs)),
      ];
    }),
    footnotes: ["Δ = measured ÷ twin − 1."],
  };
}

function round(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}
