import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runBenchmark } from "../../../src/bench/coordinator.js";
import type { BenchOptions } from "../../../src/bench/options.js";
import type { SimConfigInput } from "../../../src/sim/config.js";
import { type RunningSimulator, startSimulator } from "../../../src/sim/index.js";
import { CLOSED_FORM, CLOSED_FORM_NOISY } from "../../helpers/closed-form-sim.js";

/**
 * Repeats until sure: a level repeats until the 95% interval of its mean throughput is within the
 * target, or it has run the most it may. A quiet simulator is sure after the minimum; a noisy one
 * (whole stretches 40% faster or slower) never gets there and runs to the maximum. Resume keeps
 * the finished repeats and the decisions.
 */

const QUIET: SimConfigInput = { ...CLOSED_FORM, seed: 5 };
const NOISY: SimConfigInput = { ...CLOSED_FORM_NOISY, seed: 5 };

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, "experiment.json"), "utf8"));

function options(url: string, overrides: Partial<BenchOptions> = {}): BenchOptions {
  return {
    baseUrl: url,
    clients: 1,
    mode: "concurrency",
    levels: [16],
    inputTokens: 16,
    outputTokens: 48,
    promptsPerConcurrency: 8,
    repeats: 5,
    repeatsTarget: { min: 3, targetCi: 0.03 },
    seed: 9,
    expDir: join(mkdtempSync(join(tmpdir(), "repeats-target-")), "exp"),
    ...overrides,
  };
}

describe("repeats until sure", { timeout: 120_000 }, () => {
  it("stops after the minimum on a quiet simulator, saying why", async () => {
    sim = await startSimulator(QUIET);
    // One unmeasured pass first: the simulator runs in this test's process, and its code is not
    // yet compiled hot on the first level it serves (that repeat ran 7% slow on a busy machine).
    const { repeatsTarget: _, ...warmup } = options(sim.url, { repeats: 1, promptsPerConcurrency: 4 });
    await runBenchmark(warmup);
    const outcome = await runBenchmark(options(sim.url));
    const level = outcome.experiment.levels[0]!;
    // Sure before the maximum of 5: on an idle machine after exactly the minimum of 3.
    const ran = level.repeats!.length;
    expect(ran).toBeGreaterThanOrEqual(3);
    expect(ran).toBeLessThan(5);
    expect(level.repeatsStop?.reason).toBe("target_reached");
    expect(level.repeatsStop!.ciRelative!).toBeLessThanOrEqual(0.03);
    expect(outcome.ran).toEqual(Array.from({ length: ran }, (_, i) => `repeat${i + 1}/conc16`));
    const manifest = manifestOf(outcome.expDir);
    expect(manifest.repeats_target).toEqual({ min: 3, target_ci: 0.03 });
    expect(manifest.levels[0]).toMatchObject({ status: "complete", repeats_complete: ran });
  });

  it("runs to the maximum on a noisy one, and a resume neither repeats nor forgets", async () => {
    sim = await startSimulator(NOISY);
    const first = await runBenchmark(options(sim.url, { promptsPerConcurrency: 2, outputTokens: 24 }));
    const level = first.experiment.levels[0]!;
    expect(level.repeats).toHaveLength(5);
    expect(level.repeatsStop?.reason).toBe("max_reached");
    expect(level.repeatsStop!.ciRelative!).toBeGreaterThan(0.03);
    const again = await runBenchmark(
      options(sim.url, {
        promptsPerConcurrency: 2,
        outputTokens: 24,
        expDir: first.expDir,
        overwrite: "resume",
      }),
    );
    expect(again.ran).toEqual([]);
    expect(again.experiment.levels[0]!.repeats).toHaveLength(5);
    // A resume that allows more goes on from the fifth, keeping the five.
    const more = await runBenchmark(
      options(sim.url, {
        promptsPerConcurrency: 2,
        outputTokens: 24,
        repeats: 6,
        expDir: first.expDir,
        overwrite: "resume",
      }),
    );
    expect(more.ran).toEqual(["repeat6/conc16"]);
    expect(more.experiment.levels[0]!.repeats).toHaveLength(6);
    expect(more.experiment.levels[0]!.repeatsStop?.reason).toBe("max_reached");
  });

  it("refuses a minimum above the maximum", async () => {
    await expect(
      runBenchmark(options("http://127.0.0.1:9", { repeats: 2, repeatsTarget: { min: 3, targetCi: 0.03 } })),
    ).rejects.toMatchObject({
      details: ["• repeatsTarget.min: 3 is more than repeats (2), the most a level runs"],
    });
  });
});
