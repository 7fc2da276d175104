import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.js";
import { analyze } from "../../src/report/analysis.js";
import { loadReportSources, parseScaleFlags } from "../../src/report/sources.js";
import { runSetup } from "../fixtures/report-data.js";
import { writeVllmExperiment } from "../fixtures/vllm-files.js";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "report-sources-"));
}

async function rejection(promise: Promise<unknown>): Promise<UserError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error("expected a UserError");
}

describe("what `orchestrate report` reads", () => {
  it("a run folder: its setup.json and the experiments under cells/, reported into RUN_DIR/report", async () => {
    const runDir = tempDir();
    writeFileSync(join(runDir, "setup.json"), JSON.stringify(runSetup()));
    writeVllmExperiment(join(runDir, "cells", "rayoss-x1"), 1, { 4: 1000 });
    writeVllmExperiment(join(runDir, "cells", "rayoss-x2"), 2, { 4: 950 });
    const sources = await loadReportSources([runDir]);
    expect(sources.setup?.planName).toBe("scaling");
    expect(sources.runDirs).toEqual([runDir]);
    expect(sources.defaultOutDir).toBe(join(runDir, "report"));
    expect(sources.experiments.map((e) => [e.name, e.scale])).toEqual([
      ["rayoss-x1", 1],
      ["rayoss-x2", 2],
    ]);
  });

  it("refuses a setup.json that is not one, saying which fields are wrong", async () => {
    const runDir = tempDir();
    writeFileSync(join(runDir, "setup.json"), JSON.stringify({ ...runSetup(), planName: 3, target: "moon" }));
    writeVllmExperiment(join(runDir, "cells", "rayoss-x1"), 1, { 4: 1000 });
    const error = await rejection(loadReportSources([runDir]));
    expect(error.message).toBe(`${join(runDir, "setup.json")}: not a run setup file`);
    expect(error.details.join("\n")).toContain("• planName:");
    expect(error.details.join("\n")).toContain("• target:");
  });

  it("says so when a run folder has nothing benchmarked yet", async () => {
    const runDir = tempDir();
    writeFileSync(join(runDir, "setup.json"), JSON.stringify(runSetup()));
    const error = await rejection(loadReportSources([runDir]));
    expect(error.message).toContain("this run folder has no experiments under cells/ yet");
  });

  it("experiment folders, or a folder that holds them; the default output is ./report", async () => {
    const root = tempDir();
    writeVllmExperiment(join(root, "data", "rayoss-x1"), 1, { 4: 1000 });
    writeVllmExperiment(join(root, "data", "rayoss-x2"), 2, { 4: 950 });
    const sources = await loadReportSources(["data"], {}, root);
    expect(sources.experiments.map((e) => e.name)).toEqual(["rayoss-x1", "rayoss-x2"]);
    expect(sources.defaultOutDir).toBe(join(root, "report"));
    // The same folder given twice is one experiment, not a repeat of itself.
    const twice = await loadReportSources(["data/rayoss-x1", "data/rayoss-x1"], {}, root);
    expect(twice.experiments).toHaveLength(1);
  });

  it("refuses a folder that holds no results", async () => {
    const empty = tempDir();
    mkdirSync(join(empty, "nothing"));
    const error = await rejection(loadReportSources([join(empty, "nothing")]));
    expect(error.message).toContain("not a run folder or an experiment folder");
  });

  it("scales from --scale NAME=N where folder names carry none, and says what to do otherwise", async () => {
    const root = tempDir();
    writeVllmExperiment(join(root, "baseline"), 1, { 4: 1000 });
    writeVllmExperiment(join(root, "bigger"), 2, { 4: 1900 });
    const dirs = [join(root, "baseline"), join(root, "bigger")];
    const unscaled = await loadReportSources(dirs);
    expect(() => analyze(unscaled.experiments)).toThrowError(
      /scale \(number of LLM replicas\) of some experiments is unknown/,
    );
    const scaled = await loadReportSources(dirs, { scales: parseScaleFlags(["baseline=1", "bigger=2"]) });
    expect(scaled.experiments.map((e) => e.scale)).toEqual([1, 2]);
    const unknown = await rejection(loadReportSources(dirs, { scales: { nosuch: 2 } }));
    expect(unknown.message).toBe("--scale nosuch=2: no experiment named nosuch");
    const fromName = await rejection(loadReportSources(dirs, { scaleFromName: true }));
    expect(fromName.details).toEqual(["• baseline", "• bigger"]);
  });

  it("parses --scale values, reporting every bad one at once", () => {
    expect(parseScaleFlags(["rayoss251-x4=4", "a=b=2"])).toEqual({ "rayoss251-x4": 4, "a=b": 2 });
    let error: UserError | undefined;
    try {
      parseScaleFlags(["x", "y=0", "z=2"]);
    } catch (e) {
      error = e as UserError;
    }
    expect(error?.details).toEqual([
      "• x: expected NAME=N with N ≥ 1 (e.g. rayoss251-x4=4)",
      "• y=0: expected NAME=N with N ≥ 1 (e.g. rayoss251-x4=4)",
    ]);
  });
});
