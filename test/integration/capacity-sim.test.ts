import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runBenchmark } from "../../src/bench/coordinator.js";
import { loadExperiment } from "../../src/model/load.js";
import { type CapacityCriterion, type CapacityTable, capacityTable } from "../../src/report/capacity.js";
import { assembleReportInput } from "../../src/report/input.js";
import type { SimConfigInput } from "../../src/sim/config.js";
import { type RunningSimulator, startSimulator } from "../../src/sim/index.js";

/**
 * Capacity under an SLO on the simulator, where the answer's shape is known: the engine's decode
 * step is 10 + 0.5 × c ms at c running sequences, so a 12-token request takes about 12 × 12 =
 * 144 ms at 4 sequences and 12 × 22 = 264 ms at 24, and a median E2EL limit of 200 ms is crossed
 * between them, at the same per-replica load whatever the number of replicas (each replica has its
 * own client). With one ingress replica whose per-chunk cost saturates it at 4x, streams slow down
 * at 4x only, so capacity per replica falls.
 *
 * The criterion is the median E2EL: this machine's own load (the clients, the simulator and other
 * test files share two cores) reaches a p99, and a client that falls behind reads chunks in bursts,
 * which shortens the TPOT it measures; a request's end-to-end time is what such bursts change least.
 */

const ENGINE: SimConfigInput = {
  engine: {
    decode_base_ms: 10,
    decode_per_seq_ms: 0.5,
    prefill_ms_per_token: 0,
    stream_batching_interval_ms: 0,
  },
  ingress: { request_overhead_ms: 0, chunk_cost_ms: 0 },
  seed: 5,
};
const CRITERION: CapacityCriterion = { kind: "percentile", percentile: 50, limitsMs: { e2el: 200 } };
const TOLERANCE = 0.05;

const sims: RunningSimulator[] = [];
afterAll(async () => {
  for (const sim of sims) await sim.close();
});
const root = mkdtempSync(join(tmpdir(), "capacity-sim-"));

async function measure(config: SimConfigInput, name: string, scale: number): Promise<string> {
  const sim = await startSimulator({ ...config, replicas: scale });
  sims.push(sim);
  const expDir = join(root, name);
  await runBenchmark({
    baseUrl: sim.url,
    clients: scale,
    mode: "concurrency",
    levels: [4, 24],
    inputTokens: 8,
    outputTokens: 12,
    promptsPerConcurrency: 2,
    repeats: 3,
    seed: 3,
    expDir,
    // One image: the folders differ only in how each scale was served.
    labels: { image: "svc", runtime: "oss", scale },
  });
  await sim.close();
  return expDir;
}

async function capacityOf(dirs: string[]): Promise<CapacityTable> {
  const input = assembleReportInput(await Promise.all(dirs.map(loadExperiment)));
  return capacityTable(input.images[0]!, CRITERION, TOLERANCE);
}

describe("capacity under an SLO on the simulator", { timeout: 120_000 }, () => {
  const linear: string[] = [];

  it("is the same per replica at 1x, 2x and 4x, within its interval", async () => {
    for (const scale of [1, 2, 4]) linear.push(await measure(ENGINE, `linear-x${scale}`, scale));
    const table = await capacityOf(linear);
    expect(table.scales.map((s) => s.scale)).toEqual([1, 2, 4]);
    for (const s of table.scales) {
      // Bracketed by the two levels, with an interval from the three repeats.
      expect(s.estimate.kind).toBe("between");
      expect(s.repeats?.n).toBe(3);
    }
    const [one, two, four] = table.scales.map((s) => s.repeats!);
    for (const other of [two!, four!]) {
      // Each pair of intervals overlaps: the same capacity within them.
      expect(Math.abs(other.mean - one!.mean)).toBeLessThanOrEqual(other.ci95 + one!.ci95);
    }
    for (const s of table.scales.slice(1)) {
      // Capacity efficiency's own interval holds 100%: neither sub-linear nor superlinear.
      const [low, high] = s.judgement!.interval!;
      expect(low).toBeLessThanOrEqual(1);
      expect(high).toBeGreaterThanOrEqual(1);
    }
  });

  it("falls with scale behind one ingress replica that cannot keep up", async () => {
    // 4x at 24 sequences each: 96 streams × 1000 / 22 ms ≈ 4,400 chunks/s, past the 2,500 one
    // replica forwards at 0.4 ms a chunk. The base is the 1x measured above: one replica's
    // streams (≈ 1,100 chunks/s at most) would fit through that ingress too.
    expect(linear).toHaveLength(3);
    const bottleneck: SimConfigInput = {
      ...ENGINE,
      ingress_replicas: 1,
      ingress: { request_overhead_ms: 0, chunk_cost_ms: 0.4 },
    };
    const table = await capacityOf([linear[0]!, await measure(bottleneck, "linear-ingress-x4", 4)]);
    const four = table.scales.find((s) => s.scale === 4)!;
    expect(table.baseScale).toBe(1);
    expect(four.efficiency!).toBeLessThan(1 - TOLERANCE);
    expect(four.judgement?.verdict).toBe("sub_linear");
  });
});
