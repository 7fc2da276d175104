import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBenchmark } from "../../src/bench/coordinator.js";
import type { BenchOptions } from "../../src/bench/options.js";
import type { ExperimentSummary } from "../../src/model/types.js";
import { buildReport } from "../../src/report/build.js";
import { loadReportSources } from "../../src/report/sources.js";
import { showResults } from "../../src/results/results-command.js";
import { statusCommand } from "../../src/run/status-command.js";
import { type RunningSimulator, startSimulator } from "../../src/sim/index.js";
import { readObservations } from "../../src/twin/observations.js";
import { writeVllmExperiment } from "../fixtures/vllm-files.js";
import { CLOSED_FORM } from "../helpers/closed-form-sim.js";
import { createFakeAnyscale } from "../helpers/fake-anyscale.js";
import { orchestrate, runFolder, runState, workspace } from "../helpers/orchestrate-process.js";

/**
 * Every reader × every layout the tool writes or reads. Readers: `results`, `report`,
 * `sim calibrate`, `status`, `resume`. Layouts: one client; several; `--repeats`; request-rate
 * mode; a run folder with a failed cell; `vllm bench serve` folders as the seed's. Each reader
 * reads each layout (or refuses it with a message that says why, exit 2), and where two readers
 * show the same number (clients, throughput, repeats) they agree.
 */

type Layout = "one client" | "several clients" | "repeats" | "request rate" | "vllm bench serve";
const dirs = {} as Record<Layout, string>;
let runDir = "";
let sim: RunningSimulator | undefined;
const root = mkdtempSync(join(tmpdir(), "layouts-"));

function bench(name: string, overrides: Partial<BenchOptions>): Promise<unknown> {
  const closedLoop = overrides.mode !== "request-rate";
  return runBenchmark({
    baseUrl: sim!.url,
    clients: 1,
    mode: "concurrency",
    levels: [4, 8],
    inputTokens: 16,
    outputTokens: 24,
    ...(closedLoop ? { promptsPerConcurrency: 3 } : {}),
    seed: 5,
    expDir: join(root, name),
    ...overrides,
  });
}

function capture() {
  const out: string[] = [];
  return { out, reporter: { result: (t: string) => out.push(t), note: () => {} } };
}

async function results(dir: string): Promise<ExperimentSummary[]> {
  const { out, reporter } = capture();
  await showResults([dir], { resultsDir: root, json: true }, reporter as never);
  return JSON.parse(out.join("\n")) as ExperimentSummary[];
}

/** summary.csv of `orchestrate report DIR`, as rows of named fields. */
async function reportRows(dir: string): Promise<Array<Record<string, string>>> {
  const sources = await loadReportSources([dir]);
  const files = await buildReport({
    experiments: sources.experiments,
    ...(sources.setup ? { setup: sources.setup } : {}),
    outDir: mkdtempSync(join(root, "report-")),
  });
  const [header, ...lines] = readFileSync(files.csv, "utf8").trimEnd().split("\r\n");
  const names = header!.split(",");
  return lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [names[i], v])));
}

const closeTo = (a: number, b: number) => expect(Math.abs(a - b) / b).toBeLessThan(1e-9);

beforeAll(async () => {
  sim = await startSimulator(CLOSED_FORM);
  dirs["one client"] = join(root, "rayoss-x1");
  dirs["several clients"] = join(root, "rayoss-x2");
  dirs.repeats = join(root, "rayturbo-x1");
  dirs["request rate"] = join(root, "rayoss-rate-x1");
  dirs["vllm bench serve"] = writeVllmExperiment(join(root, "seedoss-x2"), 2, { 4: 400, 8: 700 });
  await bench("rayoss-x1", { labels: { image: "rayoss", runtime: "oss", scale: 1 } });
  await bench("rayoss-x2", { clients: 2, labels: { image: "rayoss", runtime: "oss", scale: 2 } });
  await bench("rayturbo-x1", { repeats: 2, labels: { image: "rayturbo", runtime: "turbo", scale: 1 } });
  await bench("rayoss-rate-x1", {
    mode: "request-rate",
    levels: [20],
    numPrompts: 20,
    labels: { image: "rayoss", runtime: "oss", scale: 1 },
  });
  // A run whose 2x cell fails (the service enters SYSTEM_FAILURE) after its 1x cell measured.
  const fake = createFakeAnyscale({ system_failure_for: ["tiny-oss-x2"] });
  const cwd = workspace();
  const run = await orchestrate(["run", "test-plans/tiny.yaml"], { cwd, env: fake.env });
  expect(run.code, run.stderr).toBe(1);
  runDir = runFolder(cwd);
  (globalThis as Record<string, unknown>).fakeEnv = { cwd, env: fake.env };
}, 240_000);

afterAll(async () => {
  await sim?.close();
});

describe("every reader reads every layout, and they agree", { timeout: 120_000 }, () => {
  it.each(["one client", "several clients", "repeats", "request rate", "vllm bench serve"] as Layout[])(
    "results and report agree on clients, throughput and repeats: %s",
    async (layout) => {
      const [summary] = await results(dirs[layout]);
      const rows = (await reportRows(dirs[layout])).filter((r) => r.status === "measured");
      expect(rows.length).toBe(summary!.levels.length);
      for (const level of summary!.levels) {
        const row = rows.find((r) => r.level === level.key)!;
        expect(Number(row.clients)).toBe(level.clients);
        expect(level.clients).toBe(summary!.clients);
        closeTo(Number(row.output_throughput_tok_s), level.outputThroughput);
        expect(Number(row.repeats)).toBe(level.repeats?.length ?? 1);
      }
      const expectedClients = { "several clients": 2, "vllm bench serve": 2 } as Record<string, number>;
      expect(summary!.clients).toBe(expectedClients[layout] ?? 1);
      expect(summary!.levels.every((l) => (l.repeats?.length ?? 1) === (layout === "repeats" ? 2 : 1))).toBe(
        true,
      );
    },
  );

  it.each(["one client", "several clients", "repeats", "vllm bench serve"] as Layout[])(
    "sim calibrate reads the closed-loop layout: %s",
    async (layout) => {
      const observed = await readObservations([dirs[layout]]);
      expect(observed.levels.map((l) => l.concurrency).sort((a, b) => a - b)).toEqual([4, 8]);
      // Its per-replica throughput pools the clients' own files; it is the report's per-replica
      // throughput where every client measured the same (the vLLM fixture), and close elsewhere.
      const rows = await reportRows(dirs[layout]);
      for (const level of observed.levels) {
        const row = rows.find((r) => r.level === `conc${level.concurrency}`)!;
        const perReplica = Number(row.output_throughput_per_replica_tok_s);
        if (layout === "vllm bench serve") closeTo(level.per_replica_output_throughput, perReplica);
        else expect(Math.abs(level.per_replica_output_throughput / perReplica - 1)).toBeLessThan(0.5);
      }
    },
  );

  it("sim calibrate reads the repeats layout from every repeat (twice the parts of one sweep)", async () => {
    const observed = await readObservations([dirs.repeats]);
    expect(observed.levels.every((l) => l.completed === 2 * 3 * l.concurrency)).toBe(true);
  });

  it("sim calibrate refuses request-rate results, saying it needs closed-loop levels", async () => {
    await expect(readObservations([dirs["request rate"]])).rejects.toThrow(
      /no partK\/ \(or repeatR\/partK\/\) folders with completed concC\.json results/,
    );
  });

  it("the run folder with a failed cell: results, report, status and calibrate agree on what was measured", async () => {
    const state = runState(runDir);
    expect(state.cells.map((c: { outcome: string }) => c.outcome)).toEqual(["succeeded", "failed"]);
    const summaries = await results(runDir);
    expect(summaries).toHaveLength(1);
    const rows = await reportRows(runDir);
    const measured = rows.filter((r) => r.status === "measured");
    expect(measured.map((r) => r.scale)).toEqual(["1", "1"]);
    expect(rows.filter((r) => r.scale === "2").every((r) => r.status === "missing")).toBe(true);
    for (const level of summaries[0]!.levels) {
      const row = measured.find((r) => r.level === level.key)!;
      expect(Number(row.clients)).toBe(level.clients);
      closeTo(Number(row.output_throughput_tok_s), level.outputThroughput);
    }
    const { out, reporter } = capture();
    await statusCommand(runDir, { resultsDir: root, json: true } as never, reporter as never);
    const status = JSON.parse(out.join("\n"));
    expect(status.cells.map((c: { levelsDone: string[] }) => c.levelsDone)).toEqual([["conc2", "conc4"], []]);
    const observed = await readObservations([join(runDir, "cells", "tiny-oss-x1")]);
    expect(observed.levels.map((l) => l.concurrency)).toEqual([2, 4]);
  });

  it("resume keeps the measured cell and retries only the failed one", async () => {
    const { cwd, env } = (globalThis as Record<string, any>).fakeEnv;
    const before = readFileSync(join(runDir, "cells", "tiny-oss-x1", "all-parts", "conc2.json"), "utf8");
    const resumed = await orchestrate(["resume", runDir], { cwd, env });
    expect(resumed.code, resumed.stderr).toBe(1);
    expect(readFileSync(join(runDir, "cells", "tiny-oss-x1", "all-parts", "conc2.json"), "utf8")).toBe(
      before,
    );
    expect(runState(runDir).cells.map((c: { outcome: string }) => c.outcome)).toEqual([
      "succeeded",
      "failed",
    ]);
  });

  it("status and resume refuse a folder that is not a run, saying so (exit 2)", async () => {
    const { cwd, env } = (globalThis as Record<string, any>).fakeEnv;
    for (const command of ["status", "resume"]) {
      const result = await orchestrate([command, dirs["one client"]], { cwd, env });
      expect(result.code, `${command}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(/journal|not a run folder/i);
    }
  });
});
