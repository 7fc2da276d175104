import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { aggregateRecords, type LevelAggregate } from "../../../src/bench/aggregate.js";
import { allPartsResultJson, type LevelContext } from "../../../src/bench/formats.js";
import { fixedShape } from "../../../src/bench/workload.js";
import { expandCells } from "../../../src/plan/expand.js";
import { loadPlan } from "../../../src/plan/load.js";
import type { SimConfig } from "../../../src/sim/config.js";
import { simConfigForCell } from "../../../src/twin/cell-config.js";
import { readSimProfile, runtimeFit } from "../../../src/twin/profile.js";
import { emittedRate, runVirtualLevel } from "../../helpers/virtual-level.js";

/**
 * The window's rates against the simulator's own count of what it emitted, at 1, 2 and 4 clients
 * and replicas, with the local plan's services (5,000-token prompts, 250 output tokens, its two
 * levels) in virtual time. The truth is the service's sustained rate: tokens it emitted in the
 * middle of a level forty waves long, where no edge of any window matters. Measured levels are the
 * local plan's length (3 × concurrency after a warm-up wave) and the seed's (10 ×).
 */

const ROOT = resolve(import.meta.dirname, "../../..");
const INPUT = 5000;
const OUTPUT = 250;

async function localPlanServices(): Promise<Array<{ scale: number; clients: number; config: SimConfig }>> {
  const { plan } = loadPlan(resolve(ROOT, "plans/local.yaml"), { env: {} });
  const profile = await readSimProfile(resolve(ROOT, plan.model.profile!));
  return expandCells(plan)
    .filter((cell) => cell.image.name === "rayoss-251")
    .map((cell) => ({
      scale: cell.scale.replicas,
      clients: cell.scale.clients,
      config: simConfigForCell(plan, cell, runtimeFit(profile, cell.image.runtime, "profile")),
    }));
}

async function measure(config: SimConfig, clients: number, concurrency: number, perConcurrency: number) {
  const run = await runVirtualLevel(config, {
    clients,
    concurrency,
    requests: perConcurrency * concurrency,
    warmup: concurrency,
    inputTokens: INPUT,
    outputTokens: OUTPUT,
    startSkewMs: 5,
    seed: 1,
  });
  return { run, aggregate: aggregateRecords(run.files, { requested: fixedShape(INPUT, OUTPUT) }) };
}

/** What the service sustains: tokens emitted in the middle three fifths of a long level, per second. */
async function sustainedRate(config: SimConfig, clients: number, concurrency: number): Promise<number> {
  const { run, aggregate } = await measure(config, clients, concurrency, 40);
  const from = aggregate.window.startUs / 1000;
  const length = aggregate.window.endUs / 1000 - from;
  return emittedRate(run.tokenTimes, from + 0.2 * length, from + 0.8 * length);
}

const rates = (a: LevelAggregate) => ({
  output: a.inWindow.outputTokens / a.window.seconds,
  requests: a.inWindow.requests / a.window.seconds,
});

function warningKinds(a: LevelAggregate, clients: number): string[] {
  const context: LevelContext = {
    key: "conc",
    mode: "concurrency",
    target: 1,
    modelId: "m",
    inputTokens: INPUT,
    outputTokens: OUTPUT,
    lengthSeed: 1,
    endpoint: "completions",
    burstiness: 1,
    startedAtEpochMs: 0,
    toolVersion: "test",
  };
  const parts = Array.from({ length: clients }, (_, i) => ({ part: i + 1, json: {} }));
  return (allPartsResultJson(a, context, parts).warnings as Array<{ kind: string }>).map((w) => w.kind);
}

describe("the window's rates against the simulator's sustained rate", { timeout: 120_000 }, () => {
  for (const concurrency of [4, 32]) {
    it(`at ${concurrency} streams per client: throughput, request rate and E(N) at 1, 2 and 4 clients`, async () => {
      const services = await localPlanServices();
      const rows: string[] = [];
      const truthAt1 = await sustainedRate(services[0]!.config, services[0]!.clients, concurrency);
      const measuredAt1: Record<number, number> = {};
      for (const { scale, clients, config } of services) {
        const truth = scale === 1 ? truthAt1 : await sustainedRate(config, clients, concurrency);
        const truthE = truth / (scale * truthAt1);
        for (const perConcurrency of [3, 10]) {
          const { aggregate } = await measure(config, clients, concurrency, perConcurrency);
          const { output, requests } = rates(aggregate);
          if (scale === 1) measuredAt1[perConcurrency] = output;
          const e = output / (scale * measuredAt1[perConcurrency]!);
          rows.push(
            `x${scale} ${perConcurrency}×c: ${output.toFixed(0)} tok/s vs ${truth.toFixed(0)} (${((output / truth - 1) * 100).toFixed(2)}%), E ${(e * 100).toFixed(1)}% vs ${(truthE * 100).toFixed(1)}%`,
          );
          // Every request has 250 output tokens: the window's rates must say so exactly.
          expect(output / requests).toBeCloseTo(OUTPUT, 9);
          // E(N) from the short levels and the long ones: within a point of the service's own.
          expect(Math.abs(e - truthE)).toBeLessThan(0.01);
          const kinds = warningKinds(aggregate, clients);
          if (perConcurrency === 10) {
            expect(Math.abs(output / truth - 1)).toBeLessThan(0.01);
            expect(Math.abs((requests * OUTPUT) / truth - 1)).toBeLessThan(0.01);
            expect(kinds).not.toContain("short_window");
          } else {
            // Three waves leave a window of about two requests: its edges can move the rate by a
            // percent or two, and the level says so.
            expect(Math.abs(output / truth - 1)).toBeLessThan(0.025);
            expect(kinds).toContain("short_window");
          }
          expect(kinds).not.toContain("steadiness_unjudged");
        }
      }
      if (process.env.ORCHESTRATE_PRINT_TABLES) console.log(rows.join("\n"));
    });
  }
});
