import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runBenchmark } from "../../../src/bench/coordinator.js";
import type { BenchOptions } from "../../../src/bench/options.js";
import { Interrupted } from "../../../src/errors.js";
import { renderExperiment } from "../../../src/model/render-text.js";
import type { SimConfigInput } from "../../../src/sim/config.js";
import { type RunningSimulator, startSimulator } from "../../../src/sim/index.js";

/**
 * The benchmark on a server that is not steady, or not the same from one run to the next: the
 * simulator with a slowdown episode, and repeats of the whole sweep against a server whose rate
 * has a closed form.
 */

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const tempExp = () => join(mkdtempSync(join(tmpdir(), "noise-")), "exp");
const json = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Record<string, any>;

/**
 * Prefill and ingress cost nothing, so while every slot is busy the engine emits one token per
 * sequence per step of 8 + 0.08 × c ms: c × 1000 / (8 + 0.08 c) tokens/s, in closed form.
 */
const CLOSED_FORM_SIM: SimConfigInput = {
  engine: {
    decode_base_ms: 8,
    decode_per_seq_ms: 0.08,
    prefill_ms_per_token: 0,
    stream_batching_interval_ms: 0,
  },
  ingress: { request_overhead_ms: 0, chunk_cost_ms: 0 },
};
const closedFormRate = (c: number) => (c * 1000) / (8 + 0.08 * c);

function options(url: string, overrides: Partial<BenchOptions> = {}): BenchOptions {
  return {
    baseUrl: url,
    clients: 1,
    mode: "concurrency",
    levels: [16],
    inputTokens: 32,
    outputTokens: 64,
    promptsPerConcurrency: 4,
    expDir: tempExp(),
    seed: 7,
    ...overrides,
  };
}

describe("steadiness", () => {
  it("flags a server whose token rate falls 2.5× in the middle of the level as unsteady", async () => {
    // The level runs about 0.6 s of warm-up and 2.4 s measured; the slowdown starts 1.6 s after
    // the first request, so the window sees both states.
    sim = await startSimulator({ ...CLOSED_FORM_SIM, noise: { slowdown: { factor: 2.5, after_s: 1.6 } } });
    const outcome = await runBenchmark(options(sim.url));
    const level = outcome.experiment.levels[0]!;
    const unsteady = level.warnings.filter((w) => w.kind === "unsteady");
    expect(unsteady).toHaveLength(1);
    expect(unsteady[0]!.message).toMatch(/Output tok\/s in 10 slices/);
    const file = json(join(outcome.expDir, "all-parts", "conc16.json"));
    expect(file.steadiness.verdict).toBe("unsteady");
    expect(file.steadiness.output_rates).toHaveLength(10);
    expect(file.steadiness.halves_change).toBeLessThan(-0.2);
  });

  // Over seeds and settings, in virtual time: test/unit/bench/steadiness-sweep.test.ts. Here the
  // same on real timers, whose jitter virtual time does not have.
  it("does not flag the noise-free simulator: at most 1 false alarm in 10 measurements", async () => {
    // Steps of 4 ms keep the twenty runs short; slices still hold about 100 tokens each.
    sim = await startSimulator({
      ...CLOSED_FORM_SIM,
      engine: { ...CLOSED_FORM_SIM.engine, decode_base_ms: 4 },
      seed: 3,
    });
    // Ten repeats of one level: each draws its own prompts, as ten seeds would.
    const outcome = await runBenchmark(
      options(sim.url, { levels: [8], outputTokens: 32, promptsPerConcurrency: 5, repeats: 10 }),
    );
    const verdicts = Array.from({ length: 10 }, (_, i) => {
      const file = json(join(outcome.expDir, `repeat${i + 1}`, "all-parts", "conc8.json"));
      return file.steadiness?.verdict as string | undefined;
    });
    expect(verdicts.every((v) => v === "steady" || v === "unsteady")).toBe(true);
    expect(verdicts.filter((v) => v === "unsteady").length).toBeLessThanOrEqual(1);
  }, 120_000);

  it("marks a level without a steady state (requests ≤ concurrency, no warm-up) as no_steady_state", async () => {
    sim = await startSimulator(CLOSED_FORM_SIM);
    const outcome = await runBenchmark(
      options(sim.url, { levels: [4], numPrompts: 4, promptsPerConcurrency: undefined, warmup: 0 }),
    );
    const file = json(join(outcome.expDir, "all-parts", "conc4.json"));
    expect(file.window.fallback).toBe("no_steady_state");
    expect(file.steadiness).toBeNull();
    expect(file.warmup_requests).toBe(0);
    // One warning says what happened, and nothing contradicts it: a client that never had its
    // target in flight is not "client-bound", and a window that does not exist is not "short".
    const kinds = outcome.experiment.levels[0]!.warnings.map((w) => w.kind);
    expect(kinds).toEqual(["no_steady_state"]);
    expect(file.clients.every((c: { verdict: string }) => c.verdict === "ok")).toBe(true);
  });
});

describe("repeats and warm-up", () => {
  it("runs the whole sweep 3 times; the interval brackets the mean, which is within 3% of the closed form", async () => {
    sim = await startSimulator(CLOSED_FORM_SIM);
    const opts = options(sim.url, { levels: [8, 16], promptsPerConcurrency: 3, repeats: 3 });
    const places = new Set<string>();
    const outcome = await runBenchmark(opts, {
      onProgress: (p) =>
        places.add(`${p.level}: level ${p.position} of ${p.levels}, repeat ${p.repeat} of ${p.repeats}`),
    });
    // The progress says where in the sweep each level is, for the line the person watches.
    expect([...places]).toEqual([
      "repeat1/conc8: level 1 of 2, repeat 1 of 3",
      "repeat1/conc16: level 2 of 2, repeat 1 of 3",
      "repeat2/conc8: level 1 of 2, repeat 2 of 3",
      "repeat2/conc16: level 2 of 2, repeat 2 of 3",
      "repeat3/conc8: level 1 of 2, repeat 3 of 3",
      "repeat3/conc16: level 2 of 2, repeat 3 of 3",
    ]);
    expect(outcome.ran).toEqual([
      "repeat1/conc8",
      "repeat1/conc16",
      "repeat2/conc8",
      "repeat2/conc16",
      "repeat3/conc8",
      "repeat3/conc16",
    ]);
    for (const c of [8, 16]) {
      const combined = json(join(opts.expDir, "all-parts", `conc${c}.json`));
      expect(combined.repeats).toHaveLength(3);
      // The clients the level ran on, as in every repeat's file (the report's `clients` column).
      expect(combined.parts).toBe(opts.clients);
      for (const r of combined.repeats) {
        expect(r).toMatchObject({
          output_throughput: expect.any(Number),
          request_throughput: expect.any(Number),
        });
        expect(r.median_ttft_ms).toEqual(expect.any(Number));
        expect(r.median_tpot_ms).toEqual(expect.any(Number));
      }
      const perRepeat = combined.repeats.map((r: { output_throughput: number }) => r.output_throughput);
      const mean = perRepeat.reduce((a: number, b: number) => a + b, 0) / 3;
      expect(combined.output_throughput).toBeCloseTo(mean, 6);
      const [low, high] = combined.output_throughput_ci95 as [number, number];
      expect(low).toBeLessThanOrEqual(mean);
      expect(high).toBeGreaterThanOrEqual(mean);
      expect(Math.abs(mean / closedFormRate(c) - 1)).toBeLessThan(0.03);
      // One warm-up wave per client and repeat, counted but left out of the statistics.
      expect(combined.warmup_requests).toBe(3 * c);
      expect(combined.num_prompts).toBe(3 * 3 * c);
      // Every repeat keeps its own vLLM-readable files.
      for (let r = 1; r <= 3; r++) {
        const part = json(join(opts.expDir, `repeat${r}`, "part1", `conc${c}.json`));
        expect(part).toMatchObject({ num_prompts: 3 * c, max_concurrency: c, backend: "openai" });
      }
    }
    const level = outcome.experiment.levels.find((l) => l.key === "conc16")!;
    expect(level.repeats).toHaveLength(3);
    // `results` shows the mean ± the half-width of its interval.
    const [low16, high16] = level.outputThroughputCi95!;
    expect(renderExperiment(outcome.experiment)).toContain(
      `${level.outputThroughput.toFixed(1)} ± ${((high16 - low16) / 2).toFixed(1)} (n=3)`,
    );
    expect(level.outputThroughputCi95).toEqual(
      json(join(opts.expDir, "all-parts", "conc16.json")).output_throughput_ci95,
    );
  }, 60_000);

  it("resume keeps the finished repeats and runs only the missing ones", async () => {
    sim = await startSimulator(CLOSED_FORM_SIM);
    const opts = options(sim.url, { levels: [8], promptsPerConcurrency: 2, repeats: 2 });
    await runBenchmark(opts);
    const first = readFileSync(join(opts.expDir, "repeat1", "all-parts", "conc8.json"), "utf8");
    const more = await runBenchmark({ ...opts, repeats: 3, overwrite: "resume" });
    expect(more.skipped).toEqual(["repeat1/conc8", "repeat2/conc8"]);
    expect(more.ran).toEqual(["repeat3/conc8"]);
    expect(readFileSync(join(opts.expDir, "repeat1", "all-parts", "conc8.json"), "utf8")).toBe(first);
    expect(json(join(opts.expDir, "all-parts", "conc8.json")).repeats).toHaveLength(3);
    const manifest = json(join(opts.expDir, "experiment.json"));
    expect(manifest.levels[0]).toMatchObject({ status: "complete", repeats_complete: 3 });
    // One sweep and repeats lay out their files differently: that switch is refused.
    await expect(runBenchmark({ ...opts, repeats: 1, overwrite: "resume" })).rejects.toThrow(
      /different settings/,
    );
  }, 60_000);

  it("a stop after the first repeat keeps it; the combined file says one repeat and no interval yet", async () => {
    sim = await startSimulator(CLOSED_FORM_SIM);
    const opts = options(sim.url, { levels: [4], promptsPerConcurrency: 2, repeats: 2 });
    const stop = new AbortController();
    await expect(
      runBenchmark(opts, { signal: stop.signal, onLevelDone: () => stop.abort() }),
    ).rejects.toBeInstanceOf(Interrupted);
    const combined = json(join(opts.expDir, "all-parts", "conc4.json"));
    expect(combined.repeats).toHaveLength(1);
    expect(combined.output_throughput_ci95).toBeNull();
    expect(json(join(opts.expDir, "experiment.json")).levels[0]).toMatchObject({ repeats_complete: 1 });
    const resumed = await runBenchmark({ ...opts, overwrite: "resume" });
    expect(resumed.skipped).toEqual(["repeat1/conc4"]);
    expect(resumed.ran).toEqual(["repeat2/conc4"]);
    expect(json(join(opts.expDir, "all-parts", "conc4.json")).repeats).toHaveLength(2);
  }, 60_000);

  it("warms up with one wave per client unless told 0, and a sweep run once keeps the old layout", async () => {
    sim = await startSimulator(CLOSED_FORM_SIM);
    const opts = options(sim.url, { levels: [4], promptsPerConcurrency: 2 });
    await runBenchmark(opts);
    expect(json(join(opts.expDir, "all-parts", "conc4.json"))).toMatchObject({
      warmup_requests: 4,
      num_prompts: 8,
    });
    expect(json(join(opts.expDir, "all-parts", "conc4.json")).output_throughput_ci95).toBeUndefined();
    expect(existsSync(join(opts.expDir, "part1", "conc4.json"))).toBe(true);
    expect(existsSync(join(opts.expDir, "repeat1"))).toBe(false);
    const off = options(sim.url, { levels: [4], promptsPerConcurrency: 2, warmup: 0 });
    await runBenchmark(off);
    expect(json(join(off.expDir, "all-parts", "conc4.json")).warmup_requests).toBe(0);
  });
});
