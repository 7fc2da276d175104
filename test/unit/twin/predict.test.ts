import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/errors.js";
import { expandCells } from "../../../src/plan/expand.js";
import { loadPlan, parsePlanText } from "../../../src/plan/load.js";
import { predictionForRun, predictPlanFromFiles } from "../../../src/twin/predict.js";

const ROOT = resolve(import.meta.dirname, "../../..");
const SCALING = join(ROOT, "plans/scaling.yaml");

describe("predict", () => {
  it("predicts a length distribution as its mean length (the twin runs one length per level)", async () => {
    const { plan } = loadPlan(SCALING, { env: {} });
    const drawn = {
      ...plan,
      benchmark: {
        ...plan.benchmark,
        concurrency: [8],
        input_tokens: { distribution: "uniform" as const, min: 4000, max: 6000 },
        output_tokens: { distribution: "normal" as const, mean: 250, std: 50, min: 1, max: 1000 },
      },
    };
    const fixed = { ...drawn, benchmark: { ...drawn.benchmark, input_tokens: 5000, output_tokens: 250 } };
    const cells = expandCells(plan).slice(0, 1);
    const [a, b] = await Promise.all([
      predictPlanFromFiles(drawn, cells),
      predictPlanFromFiles(fixed, cells),
    ]);
    expect(a.cells[0]!.levels).toEqual(b.cells[0]!.levels);
  });

  it("predicts every cell and level of the seed plan, with time and cost", async () => {
    const { plan } = loadPlan(SCALING, { env: {} });
    const prediction = await predictPlanFromFiles(plan, expandCells(plan));
    expect(prediction.cells.map((c) => c.id)).toEqual([
      "rayoss-251-x1",
      "rayoss-251-x2",
      "rayoss-251-x4",
      "rayturbo-251-x1",
      "rayturbo-251-x2",
      "rayturbo-251-x4",
    ]);
    for (const cell of prediction.cells) {
      expect(cell.levels.map((l) => l.concurrency)).toEqual([4, 8, 16, 32, 48, 64, 128]);
      // Per-replica throughput grows with load, and TPOT with it.
      const perReplica = cell.levels.map((l) => l.per_replica_output_throughput);
      const tpot = cell.levels.map((l) => l.median_tpot_ms);
      expect([...perReplica].sort((a, b) => a - b)).toEqual(perReplica);
      expect([...tpot].sort((a, b) => a - b)).toEqual(tpot);
      // 10 × c requests per client, every one completed.
      for (const level of cell.levels) expect(level.completed).toBe(10 * level.concurrency * cell.clients);
      expect(cell.duration_s).toBeCloseTo(25 * 60 + cell.benchmark_s, 6);
    }
    const gpuHours = prediction.cells.reduce((sum, c) => sum + c.gpu_hours, 0);
    expect(prediction.gpu_hours).toBeCloseTo(gpuHours, 9);
    expect(prediction.cost_usd).toBeCloseTo(gpuHours * 4, 9);
  });

  it("puts each scale's capacity under the plan's SLO among its levels, the same per replica at every scale", async () => {
    const path = join(ROOT, "plans/capacity.yaml");
    const { plan } = loadPlan(path, { env: {} });
    const prediction = await predictPlanFromFiles(plan, expandCells(plan));
    const perReplica = prediction.cells.map((cell) => {
      const e2el = cell.levels.map((l) => l.percentiles_ms.median_e2el_ms!);
      // The levels the twin brackets the 200 ms limit with are the ones its own medians straddle.
      expect(e2el[1]).toBeLessThanOrEqual(200);
      expect(e2el[2]).toBeGreaterThan(200);
      const capacity = cell.capacity!;
      expect(capacity.criterion).toBe("p50 E2EL ≤ 200 ms");
      expect(capacity.estimate).toMatchObject({ kind: "between", lower: { level: { key: "conc8" } } });
      return capacity.estimate.kind === "between" ? capacity.estimate.value : Number.NaN;
    });
    // Clients and ingress scale with the replicas: the twin's service scales linearly.
    for (const value of perReplica) expect(Math.abs(value / perReplica[0]! - 1)).toBeLessThan(0.05);

    // A good share no level reaches: below the lowest level, an answer rather than a number.
    const strict = readFileSync(path, "utf8")
      .replace("    percentile: 50\n", "    goodput_fraction: 0.99\n")
      .replace("e2el_ms: 200", "e2el_ms: 20");
    const tight = parsePlanText(strict, path, { env: {} }).plan;
    const cell = (await predictPlanFromFiles(tight, expandCells(tight).slice(0, 1))).cells[0]!;
    expect(cell.levels[0]!.good_fraction).toBeLessThan(0.99);
    expect(cell.capacity?.estimate.kind).toBe("below_lowest");
  });

  it("needs a profile, and says where to name one", async () => {
    const text = readPlan().replace(/^ {2}profile: .*$/m, "");
    const { plan } = parsePlanText(text, SCALING, { env: {} });
    expect(plan.model.profile).toBeUndefined();
    expect(await predictionForRun(plan, expandCells(plan))).toBeUndefined();
    await expect(predictPlanFromFiles(plan, expandCells(plan))).rejects.toThrow(/names no simulator profile/);
  });

  it("refuses request-rate levels, whose length does not depend on the service", async () => {
    const text = readPlan().replace("  mode: concurrency\n", "  mode: request-rate\n");
    const { plan } = parsePlanText(text, SCALING, { env: {} });
    expect(await predictionForRun(plan, expandCells(plan))).toBeUndefined();
    await expect(predictPlanFromFiles(plan, expandCells(plan))).rejects.toBeInstanceOf(UserError);
  });

  it("reports a profile path that does not exist at the plan's model.profile", () => {
    const dir = mkdtempSync(join(tmpdir(), "twin-plan-"));
    const path = join(dir, "plan.yaml");
    writeFileSync(path, readPlan().replace("profile: gpt-oss-120b-tp4-h100", "profile: nope.json"));
    try {
      loadPlan(path, { env: {} });
      expect.unreachable();
    } catch (error) {
      expect((error as UserError).details.join("\n")).toContain(
        `model.profile: no such file ${join(dir, "nope.json")} (paths resolve against the plan's folder)`,
      );
    }
  });
});

function readPlan(): string {
  return readFileSync(SCALING, "utf8");
}

describe("profile_speedup", () => {
  it("compresses the local target's time only", async () => {
    const local = loadPlan(join(ROOT, "plans/local.yaml"), { env: {} }).plan;
    const onAnyscale = loadPlan(join(ROOT, "plans/local.yaml"), { env: {}, target: "anyscale" }).plan;
    const [fast, real] = await Promise.all([
      predictPlanFromFiles(local, expandCells(local).slice(0, 1)),
      predictPlanFromFiles(onAnyscale, expandCells(onAnyscale).slice(0, 1)),
    ]);
    expect(local.model.profile_speedup).toBe(4);
    expect(fast.profile.speedup).toBe(4);
    expect(real.profile.speedup).toBe(1);
    const ratio = real.cells[0]!.benchmark_s / fast.cells[0]!.benchmark_s;
    expect(ratio).toBeGreaterThan(3.8);
    expect(ratio).toBeLessThan(4.2);
  });
});
