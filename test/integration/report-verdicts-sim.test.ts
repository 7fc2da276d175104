import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runBenchmark } from "../../src/bench/coordinator.js";
import type { BenchOptions } from "../../src/bench/options.js";
import { loadExperiment } from "../../src/model/load.js";
import { analyze } from "../../src/report/analysis.js";
import { verdictWords } from "../../src/report/noise.js";
import type { ScalingPoint } from "../../src/report/scaling.js";
import type { SimConfigInput } from "../../src/sim/config.js";
import { type RunningSimulator, startSimulator } from "../../src/sim/index.js";
import { CLOSED_FORM, CLOSED_FORM_NOISY, closedFormRate } from "../helpers/closed-form-sim.js";

/**
 * The verdicts on services whose answer is known in advance (the simulator in closed form: while
 * every slot is busy a replica emits c × 1000 / (4 + 0.05 c) tokens/s at c sequences):
 *   - "2x" as two clients into the same single replica: E(2x, c) = T1(2c) / (2 × T1(c)),
 *     85.7% at c = 16: clearly sub-linear;
 *   - 2x as two replicas with two clients: linear, so "linear within ±5%", not "sub-linear";
 *   - both on a noisy simulator with short levels and two repeats: the interval is wide, so
 *     "inconclusive", with the repeats that would settle it.
 */

const QUIET: SimConfigInput = { ...CLOSED_FORM, seed: 11 };
const NOISY: SimConfigInput = { ...CLOSED_FORM_NOISY, seed: 11 };
const rate = closedFormRate;

const sims: RunningSimulator[] = [];
afterAll(async () => {
  for (const sim of sims) await sim.close();
});
const root = mkdtempSync(join(tmpdir(), "verdicts-"));

async function measure(
  config: SimConfigInput,
  name: string,
  scale: number,
  overrides: Partial<BenchOptions> = {},
): Promise<string> {
  const sim = await startSimulator(config);
  sims.push(sim);
  const expDir = join(root, name);
  await runBenchmark({
    baseUrl: sim.url,
    clients: scale,
    mode: "concurrency",
    levels: [16],
    inputTokens: 16,
    // About 2 s measured per level: windows long enough that a quiet service measures the same twice.
    outputTokens: 48,
    promptsPerConcurrency: 8,
    repeats: 3,
    seed: 3,
    expDir,
    // One image: the folders differ only in how 2x was served.
    labels: { image: "svc", runtime: "oss", scale },
    ...overrides,
  });
  await sim.close();
  return expDir;
}

async function efficiencyOf(dirs: string[]): Promise<ScalingPoint> {
  const analysis = analyze(await Promise.all(dirs.map(loadExperiment)));
  return analysis.scaling[0]!.rows[0]!.points[1]!;
}

describe("verdicts on the simulator, where the answer is known", { timeout: 120_000 }, () => {
  it("calls two clients into one replica sub-linear, and a linear 2x linear within ±5%", async () => {
    // One short unmeasured pass first: the simulator runs in this process, and its code is not yet
    // compiled hot for the first level it serves (that level measured 7% slow on a busy machine).
    await measure(QUIET, "warm-x1", 1, { repeats: 1, promptsPerConcurrency: 4 });
    const base = await measure(QUIET, "quiet-x1", 1);
    const shared = await measure(QUIET, "shared-x2", 2);
    const sub = await efficiencyOf([base, shared]);
    // The closed form: 85.7%; the client measures within a few percent of it.
    expect(sub.efficiency!).toBeGreaterThan(rate(32) / (2 * rate(16)) - 0.05);
    expect(sub.efficiency!).toBeLessThan(rate(32) / (2 * rate(16)) + 0.05);
    expect(sub.judgement?.verdict).toBe("sub_linear");
    expect(verdictWords(sub.judgement!)).toMatch(/^sub-linear, at least \d+(\.\d)?% below linear$/);

    const linear = await measure({ ...QUIET, replicas: 2 }, "quiet-x2", 2);
    const both = await efficiencyOf([base, linear]);
    expect(both.judgement?.verdict).toBe("linear");
    expect(verdictWords(both.judgement!)).toBe("linear within ±5%");
  });

  it("calls a noisy service measured in short levels inconclusive, with the repeats that would settle it", async () => {
    const short = { promptsPerConcurrency: 2, outputTokens: 24, repeats: 2 };
    const base = await measure(NOISY, "noisy-x1", 1, short);
    const two = await measure({ ...NOISY, replicas: 2 }, "noisy-x2", 2, short);
    const point = await efficiencyOf([base, two]);
    const j = point.judgement!;
    expect(j.verdict).toBe("inconclusive");
    expect(j.interval![0]).toBeLessThan(0.95);
    expect(j.interval![0]).toBeGreaterThanOrEqual(0);
    expect(j.interval![1]).toBeGreaterThan(1.05);
    expect(j.settle!.repeats).toBeGreaterThanOrEqual(3);
    expect(j.settle!.high).toBeGreaterThan(j.settle!.repeats);
    // From two repeats a side the spread is barely known: the count's upper bound may pass 10,000.
    expect(verdictWords(j)).toMatch(
      /^inconclusive: \d+ \(\d+–(\d+|>10,000)\) repeats per scale would settle it$/,
    );
  });
});
