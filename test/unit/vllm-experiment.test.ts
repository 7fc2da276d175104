import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadExperiment } from "../../src/model/load.js";
import { imageAndScaleFromName } from "../../src/model/vllm-experiment.js";

function vllmFile(overrides: Record<string, unknown>): string {
  return JSON.stringify({
    date: "20251102-114456",
    backend: "vllm",
    model_id: "m",
    num_prompts: 40,
    request_rate: 1e9,
    burstiness: 1,
    max_concurrency: 4,
    duration: 10,
    completed: 40,
    total_input_tokens: 200_000,
    total_output_tokens: 10_000,
    request_throughput: 4,
    request_goodput: null,
    output_throughput: 1000,
    total_token_throughput: 21_000,
    max_output_tokens_per_s: 1200,
    max_concurrent_requests: 4,
    mean_ttft_ms: 100,
    median_ttft_ms: 90,
    std_ttft_ms: 10,
    p99_ttft_ms: 200,
    mean_tpot_ms: 10,
    median_tpot_ms: 10,
    std_tpot_ms: 1,
    p99_tpot_ms: 12,
    mean_itl_ms: 10,
    median_itl_ms: 9,
    std_itl_ms: 2,
    p99_itl_ms: 30,
    ...overrides,
  });
}

function makeExperiment(name: string, parts: Array<Record<string, Record<string, unknown>>>): string {
  const dir = join(mkdtempSync(join(tmpdir(), "vllm-exp-")), name);
  parts.forEach((levels, i) => {
    const partDir = join(dir, `part${i + 1}`);
    mkdirSync(partDir, { recursive: true });
    for (const [key, overrides] of Object.entries(levels))
      writeFileSync(join(partDir, `${key}.json`), vllmFile(overrides));
  });
  return dir;
}

describe("reading vllm bench folders", () => {
  it("sums throughputs and averages latencies the seed's way, and labels the method", async () => {
    const dir = makeExperiment("rayoss251-x2", [
      { conc4: { output_throughput: 1000, p99_ttft_ms: 200 } },
      { conc4: { output_throughput: 1100, p99_ttft_ms: 400 } },
    ]);
    const exp = await loadExperiment(dir);
    expect(exp).toMatchObject({
      name: "rayoss251-x2",
      image: "rayoss251",
      scale: 2,
      runtime: "oss",
      clients: 2,
    });
    const [level] = exp.levels;
    expect(level).toMatchObject({
      key: "conc4",
      concurrency: 4,
      clients: 2,
      method: "seed_sum",
      outputThroughput: 2100,
    });
    expect(level?.latency.ttft?.p99).toBe(300);
    expect(level?.warnings.map((w) => w.kind)).toEqual(["averaged_percentiles"]);
  });

  it("warns when fewer requests completed than were asked for, naming the parts", async () => {
    const dir = makeExperiment("exp-x2", [{ conc4: { completed: 30 } }, { conc4: {} }]);
    const [level] = (await loadExperiment(dir)).levels;
    expect(level).toMatchObject({ numPrompts: 80, completed: 70, failed: 10 });
    const incomplete = level?.warnings.find((w) => w.kind === "incomplete");
    expect(incomplete?.message).toBe(
      "conc4: only 70 of 80 requests completed (87.5%); part1 30/40. The files do not say why the others " +
        "failed, so these throughputs count only the survivors.",
    );
  });

  it("notes parts that lack a level, and orders levels numerically", async () => {
    const dir = makeExperiment("exp", [{ conc16: {}, conc4: {}, rr2: {} }, { conc4: {} }]);
    const exp = await loadExperiment(dir);
    expect(exp.levels.map((l) => l.key)).toEqual(["conc4", "conc16", "rr2"]);
    expect(exp.levels[1]?.warnings.some((w) => w.kind === "missing_part")).toBe(true);
    expect(exp.levels[2]).toMatchObject({ mode: "request-rate", requestRate: 2 });
  });

  it("flags a stored all-parts aggregate that does not match its parts", async () => {
    const dir = makeExperiment("exp", [{ conc4: {} }, { conc4: {} }]);
    mkdirSync(join(dir, "all-parts"));
    writeFileSync(
      join(dir, "all-parts", "conc4.json"),
      vllmFile({ output_throughput: 9999, request_throughput: 8, num_prompts: 80, completed: 80 }),
    );
    const [level] = (await loadExperiment(dir)).levels;
    expect(level?.warnings.find((w) => w.kind === "other")?.message).toBe(
      "conc4: all-parts/conc4.json does not match its parts: output_throughput 9999 (stored) vs 2000 (from the parts).",
    );
  });

  it("reads a flat folder of level files as one client", async () => {
    const dir = mkdtempSync(join(tmpdir(), "flat-"));
    writeFileSync(join(dir, "conc8.json"), vllmFile({ max_concurrency: 8 }));
    const exp = await loadExperiment(dir);
    expect(exp.clients).toBe(1);
    expect(exp.levels[0]?.warnings).toEqual([]);
  });

  it("says which file and key are wrong in a malformed result", async () => {
    const dir = makeExperiment("exp", [{ conc4: { completed: "many" } }]);
    await expect(loadExperiment(dir)).rejects.toMatchObject({
      message: expect.stringContaining("part1/conc4.json: not a vLLM benchmark result"),
      details: [expect.stringContaining("• completed:")],
    });
  });

  it("rejects folders that are not experiments", async () => {
    const dir = mkdtempSync(join(tmpdir(), "empty-"));
    await expect(loadExperiment(dir)).rejects.toThrow(/not an experiment folder/);
  });

  it("derives image and scale from folder names", () => {
    expect(imageAndScaleFromName("rayturbo251-x8")).toEqual({ image: "rayturbo251", scale: 8 });
    expect(imageAndScaleFromName("gptoss-120b-rayoss-251-x4")).toEqual({
      image: "gptoss-120b-rayoss-251",
      scale: 4,
    });
    expect(imageAndScaleFromName("baseline")).toEqual({ image: "baseline" });
  });
});
