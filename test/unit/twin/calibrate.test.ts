import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type FittedCosts, kvLowerBound, predictCalibrationLevel } from "../../../src/twin/calibrate.js";
import { calibrateProfile } from "../../../src/twin/calibrate-profile.js";

/**
 * Calibration must find the costs again from results the simulator produced with known costs:
 * closed-loop levels written as vllm bench files (one client, one replica), read and fitted the
 * same way as the seed's folders. Two prompt lengths, because one cannot tell prefill cost from
 * per-sequence decode cost (see calibrate.ts).
 */
const truth: FittedCosts = {
  max_num_batched_tokens: 2048,
  network_latency_ms: 60,
  prefill_ms_per_token: 0.012,
  decode_base_ms: 6.3,
  decode_per_seq_ms: 0.16,
  chunk_cost_ms: 0,
};
const promptsPerConcurrency = 10;
const outputTokens = 250;
const levels = [4, 16, 64, 128];
const kvCacheTokens = kvLowerBound(
  levels.map((concurrency) => ({ concurrency, inputTokens: 5000, outputTokens })),
);
const root = mkdtempSync(join(tmpdir(), "twin-calibrate-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function writeSimulatedFolder(name: string, costs: FittedCosts, inputTokens: number): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "part1"), { recursive: true });
  for (const c of levels) {
    const level = predictCalibrationLevel(
      costs,
      { inputTokens, outputTokens, concurrency: c, nominalConcurrency: c },
      promptsPerConcurrency,
      kvCacheTokens,
    );
    const file = {
      num_prompts: promptsPerConcurrency * c,
      max_concurrency: c,
      duration: level.duration_s,
      completed: level.completed,
      failed: 0,
      total_input_tokens: level.completed * inputTokens,
      total_output_tokens: level.completed * outputTokens,
      request_throughput: level.span_output_throughput / outputTokens,
      output_throughput: level.span_output_throughput,
      median_ttft_ms: level.median_ttft_ms,
      mean_ttft_ms: level.mean_ttft_ms,
      p99_ttft_ms: level.p99_ttft_ms,
      median_tpot_ms: level.median_tpot_ms,
      mean_tpot_ms: level.mean_tpot_ms,
    };
    writeFileSync(join(dir, "part1", `conc${c}.json`), JSON.stringify(file));
  }
  return dir;
}

describe("sim calibrate", () => {
  it("recovers, within 5%, the costs of results the simulator produced", async () => {
    const dirs = [
      writeSimulatedFolder("simoss-long-x1", truth, 5000),
      writeSimulatedFolder("simoss-short-x1", truth, 1000),
    ];
    const profile = await calibrateProfile({ dirs, name: "recovered", command: "test" });
    const fit = profile.runtimes.oss!;
    expect(profile.runtimes.turbo).toBeUndefined();
    expect(profile.workloads).toEqual([
      { input_tokens: 1000, output_tokens: 250 },
      { input_tokens: 5000, output_tokens: 250 },
    ]);
    expect(fit.engine.max_num_batched_tokens).toBe(truth.max_num_batched_tokens);
    const within5 = (found: number, expected: number) =>
      expect(Math.abs(found / expected - 1)).toBeLessThan(0.05);
    within5(fit.engine.prefill_ms_per_token, truth.prefill_ms_per_token);
    within5(fit.engine.decode_base_ms, truth.decode_base_ms);
    within5(fit.engine.decode_per_seq_ms, truth.decode_per_seq_ms);
    within5(fit.ingress.network_latency_ms, truth.network_latency_ms);
    // Every level is reported with what was observed and what the fitted model predicts.
    expect(fit.levels.map((l) => [l.input_tokens, l.concurrency])).toEqual([
      ...levels.map((c) => [1000, c]),
      ...levels.map((c) => [5000, c]),
    ]);
    for (const level of fit.levels) {
      within5(level.predicted.per_replica_output_throughput, level.observed.per_replica_output_throughput);
    }
  }, 120_000);

  it("says which folder it cannot place", async () => {
    const dir = join(root, "mystery");
    mkdirSync(join(dir, "part1"), { recursive: true });
    await expect(calibrateProfile({ dirs: [dir], name: "x", command: "test" })).rejects.toThrow(
      /cannot tell the image's runtime/,
    );
  });
});
