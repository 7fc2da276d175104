import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { orchestrate, runFolder, workspace } from "../helpers/orchestrate-process.js";

/**
 * The twin against the real thing it models: a small plan run on the local target (the simulator
 * on real timers, measured by the real load generator) agrees with what `predict` computed in
 * virtual time for the same plan, and the report says so level by level.
 */
const PLAN = `
name: twin
target: local
model:
  model_id: sim/twin
  engine_kwargs:
    enable_prefix_caching: false
  stream_batching_interval_ms: 0
  profile: gpt-oss-120b-tp4-h100
images:
  - name: rayoss-251
    from: anyscale/ray-llm:2.51.0-py311-cu128
    build: containerfile
    env:
      ANYSCALE_DISABLE_OPTIMIZED_RAY: "1"
scales: [2]
benchmark:
  concurrency: [4, 16]
  input_tokens: 2000
  output_tokens: 100
  prompts_per_concurrency: 4
deploy:
  ready_timeout_s: 30
  poll_interval_s: 0.1
  unhealthy_grace_s: 1
  terminate_timeout_s: 5
`;

describe.skipIf(process.platform !== "linux")("the twin of a run", { timeout: 180_000 }, () => {
  it("predicts a real-time simulator run within 5%, and the report flags a prediction that is off", async () => {
    const cwd = workspace();
    writeFileSync(join(cwd, "test-plans", "twin.yaml"), PLAN);
    const result = await orchestrate(["run", "test-plans/twin.yaml"], { cwd });
    expect(result.code, result.stderr).toBe(0);
    // Before it starts, the run says how long the twin expects it to take.
    expect(result.stderr).toMatch(
      /The twin expects the cell to take about \d+ s \(.* predict test-plans\/twin\.yaml shows each\)/,
    );
    const dir = runFolder(cwd);

    const report = JSON.parse(readFileSync(join(dir, "report", "report.json"), "utf8"));
    const rows: Array<{
      level: string;
      measured: { throughput: number; tpotMs: number };
      predicted: { throughput: number; tpotMs: number };
    }> = report.twin;
    expect(rows.map((r) => r.level)).toEqual(["conc4", "conc16"]);
    process.stdout.write(`twin vs real-time run:\n${rows.map((r) => JSON.stringify(r)).join("\n")}\n`);
    for (const row of rows) {
      const where = `${row.level}: ${JSON.stringify(row)}`;
      expect(Math.abs(row.measured.throughput / row.predicted.throughput - 1), where).toBeLessThan(0.05);
      expect(Math.abs(row.measured.tpotMs / row.predicted.tpotMs - 1), where).toBeLessThan(0.05);
    }
    expect(report.warnings.filter((w: { kind: string }) => w.kind === "twin_deviation")).toEqual([]);
    expect(readFileSync(join(dir, "report", "report.md"), "utf8")).toContain("Measured vs the twin");

    // A twin that expected twice the throughput: the rebuilt report calls the difference out.
    const twinPath = join(dir, "twin.json");
    const twin = JSON.parse(readFileSync(twinPath, "utf8"));
    for (const level of twin.cells[0].levels) level.output_throughput *= 2;
    writeFileSync(twinPath, JSON.stringify(twin));
    const rebuilt = await orchestrate(["report", dir], { cwd });
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    const markdown = readFileSync(join(dir, "report", "report.md"), "utf8");
    expect(markdown).toContain("differs from the twin: check the configuration or the profile");
    // Measured within 5% of the first prediction, so about half of the doubled one: −47.5% to −52.5%.
    const conc16 = rows.find((r) => r.level === "conc16")!;
    const deviation = (100 * conc16.measured.throughput) / (2 * conc16.predicted.throughput) - 100;
    expect(markdown).toContain(
      `conc16: output throughput ${Math.round(conc16.measured.throughput)} tok/s measured, ${Math.round(2 * conc16.predicted.throughput)} predicted (−${Math.abs(deviation).toFixed(1)}%)`,
    );
  });
});
