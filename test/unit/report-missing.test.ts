import { describe, expect, it } from "vitest";
import { analyze } from "../../src/report/analysis.js";
import { efficiencyChart, throughputPerReplicaChart } from "../../src/report/charts/specs.js";
import { summaryCsv } from "../../src/report/csv.js";
import { MISSING } from "../../src/report/format.js";
import { measurementsTableView, scalingTableView } from "../../src/report/tables.js";
import { experiment, level, runSetup } from "../fixtures/report-data.js";

// A partial run: the plan asked for 1x, 2x, 4x at conc4 and conc8; 2x stopped after conc4, 4x never ran,
// and only 1x of Turbo ran.
function partialRun() {
  return analyze(
    [
      experiment("rayoss", 1, [level(4), level(8, { outputThroughput: 1800 })]),
      experiment("rayoss", 2, [level(4, { outputThroughput: 1900 })]),
      experiment("rayturbo", 1, [level(4), level(8)]),
    ],
    runSetup(),
  );
}

function dataOf(spec: unknown): Array<Record<string, unknown>> {
  return (spec as { data: { values: Array<Record<string, unknown>> } }).data.values;
}

describe("a partial run", () => {
  it("keeps planned scales and levels in the grid", () => {
    const analysis = partialRun();
    const oss = analysis.input.images[0]!;
    expect(oss.scales).toEqual([1, 2, 4]);
    expect(oss.levels.map((l) => l.key)).toEqual(["conc4", "conc8"]);
  });

  it("shows missing cells as missing in the scaling table, never as zero", () => {
    const analysis = partialRun();
    const view = scalingTableView(analysis, analysis.scaling[0]!);
    expect(view.columns.map((c) => c.label)).toEqual([
      "Concurrency per client",
      "T 1x (tok/s)",
      "T 2x (tok/s)",
      "S 2x",
      "E 2x",
      "T 4x (tok/s)",
      "S 4x",
      "E 4x",
    ]);
    expect(view.rows[0]?.map((c) => c.text)).toEqual([
      "4",
      "1,000",
      "1,900",
      "1.90×",
      "95.0%",
      MISSING,
      MISSING,
      MISSING,
    ]);
    expect(view.rows[1]?.map((c) => c.text)).toEqual([
      "8",
      "1,800",
      MISSING,
      MISSING,
      MISSING,
      MISSING,
      MISSING,
      MISSING,
    ]);
    expect(view.rows[1]?.slice(2).every((c) => c.missing === true)).toBe(true);
    expect(view.footnotes).toContain(`${MISSING} not measured (missing from the data, not zero).`);
    const everything = measurementsTableView(analysis, analysis.input.images[0]!);
    const fourX = everything.rows.filter((r) => r[0]?.text === "4x");
    expect(fourX).toHaveLength(2);
    expect(fourX.every((r) => r.slice(2).every((c) => c.text === MISSING))).toBe(true);
  });

  it("writes missing rows to the CSV with status missing and no numbers", () => {
    const rows = summaryCsv(partialRun()).trimEnd().split("\r\n").slice(1);
    expect(rows).toHaveLength(3 * 2 + 3 * 2); // every image × planned scale × level
    const missing = rows
      .filter((r) => r.split(",")[8] === "missing")
      .map((r) => r.split(",").slice(0, 6).join(","));
    expect(missing).toEqual([
      "rayoss,oss,2,2,concurrency,conc8",
      "rayoss,oss,4,,concurrency,conc4",
      "rayoss,oss,4,,concurrency,conc8",
      "rayturbo,turbo,2,,concurrency,conc4",
      "rayturbo,turbo,2,,concurrency,conc8",
      "rayturbo,turbo,4,,concurrency,conc4",
      "rayturbo,turbo,4,,concurrency,conc8",
    ]);
    for (const row of rows.filter((r) => r.includes(",missing,"))) {
      expect(
        row
          .split(",")
          .slice(9, 36)
          .every((field) => field === ""),
      ).toBe(true);
    }
  });

  it("leaves gaps in the charts: a null point, and no line for a scale never measured", () => {
    const analysis = partialRun();
    const group = analysis.input.images[0]!;
    const points = dataOf(throughputPerReplicaChart(analysis, group).spec);
    expect(points.map((p) => [p.scale, p.levelKey, p.perReplica])).toEqual([
      ["1x", "conc4", 1000],
      ["1x", "conc8", 1800],
      ["2x", "conc4", 950],
      ["2x", "conc8", null],
    ]);
    const efficiency = dataOf(efficiencyChart(analysis, group, analysis.scaling[0]!).spec);
    expect(efficiency.map((p) => [p.scale, p.level, p.efficiency])).toEqual([
      ["2x", 4, 95],
      ["2x", 8, null],
    ]);
  });

  it("does not compare a scale that one side lacks", () => {
    const [comparison] = partialRun().comparisons;
    expect(comparison?.verdicts.map((v) => v.text)).toEqual([
      expect.stringMatching(/^1x: /),
      "2x: no comparison (Turbo not measured).",
      "4x: no comparison (OSS and Turbo not measured).",
    ]);
  });
});
