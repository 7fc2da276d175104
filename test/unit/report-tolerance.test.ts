import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.js";
import { analyze } from "../../src/report/analysis.js";
import { parseTolerance } from "../../src/report/report-command.js";
import { experiment, level, runSetup } from "../fixtures/report-data.js";
import { writeVllmExperiment } from "../fixtures/vllm-files.js";

const reps = (values: number[]) => values.map((v) => ({ outputThroughput: v, requestThroughput: v / 100 }));
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const repeated = (scale: number, values: number[]) =>
  experiment("rayoss", scale, [level(4, { outputThroughput: mean(values), repeats: reps(values) })]);

/** E(2x) = 98% ± about 2: linear within ±5%, inconclusive within ±2%. */
const experiments = () => [repeated(1, [990, 1000, 1010]), repeated(2, [1950, 1960, 1970])];
const verdictOf = (analysis: ReturnType<typeof analyze>) =>
  analysis.scaling[0]!.rows[0]!.points[1]!.judgement?.verdict;

describe("the linearity tolerance", () => {
  it("comes from the run's report.linearity_tolerance, and the flag overrides it", () => {
    expect(verdictOf(analyze(experiments()))).toBe("linear");
    expect(analyze(experiments()).tolerance).toBe(0.05);
    const strict = runSetup({ linearityTolerance: 0.02 });
    expect(verdictOf(analyze(experiments(), strict))).toBe("inconclusive");
    expect(verdictOf(analyze(experiments(), strict, { tolerance: 0.05 }))).toBe("linear");
  });

  it("reads 5% or 0.05 from the command line, and refuses anything else, saying what", () => {
    expect(parseTolerance("5%", "--linearity-tolerance")).toBe(0.05);
    expect(parseTolerance("0.03", "--linearity-tolerance")).toBe(0.03);
    for (const bad of ["0", "60%", "five", "-1", "0.6"]) {
      expect(() => parseTolerance(bad, "--linearity-tolerance")).toThrowError(UserError);
    }
    expect(() => parseTolerance("five", "--linearity-tolerance")).toThrowError(
      '--linearity-tolerance: "five" is not a tolerance',
    );
  });

  it("the report command applies the flag to what it writes", async () => {
    const { runReportCommand } = await import("../../src/report/report-command.js");
    // Three runs of each cell (the same image and scale in three folders become its repeats).
    const root = mkdtempSync(join(tmpdir(), "tolerance-"));
    const dirs = ["a", "b", "c"].flatMap((run, i) => [
      writeVllmExperiment(join(root, run, "rayoss-x1"), 1, { 4: 990 + 10 * i }),
      writeVllmExperiment(join(root, run, "rayoss-x2"), 2, { 4: 975 + 5 * i }),
    ]);
    const verdict = async (flag?: string) => {
      const out = join(root, `report-${flag ?? "default"}`);
      await runReportCommand(dirs, { out, ...(flag ? { linearityTolerance: flag } : {}) }, root);
      const [header, , twoX] = readFileSync(join(out, "summary.csv"), "utf8").split("\r\n");
      const row = Object.fromEntries(header!.split(",").map((c, i) => [c, twoX!.split(",")[i]]));
      return [row.efficiency_verdict, row.linearity_band_low];
    };
    expect(await verdict()).toEqual(["linear", "0.95"]);
    expect(await verdict("2%")).toEqual(["inconclusive", "0.98"]);
  });
});
