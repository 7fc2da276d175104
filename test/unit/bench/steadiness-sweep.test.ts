import { describe, expect, it } from "vitest";
import { aggregateRecords } from "../../../src/bench/aggregate.js";
import { assessSteadiness } from "../../../src/bench/steadiness.js";
import { fixedShape } from "../../../src/bench/workload.js";
import type { Random } from "../../../src/random.js";
import { parseSimConfig, type SimConfigInput } from "../../../src/sim/config.js";
import { runVirtualLevel } from "../../helpers/virtual-level.js";

/**
 * The steadiness check over many seeds, in virtual time: how often it calls a steady simulator
 * unsteady (false alarms), and how often it catches a slowdown that starts halfway through the
 * window (detection). The simulator is the default one (prefill, decode, ingress costs) with 5%
 * step jitter; each seed changes the jitter, the routing and the clients' start skew. One replica
 * per client, 16 streams per client, as a scaling run has them.
 *
 * `ORCHESTRATE_PRINT_TABLES=1` prints the tables docs/noise.md shows, over 40 seeds a setting and
 * with 10 × concurrency and a 1.5× slowdown too (CI checks 8 seeds of the rest).
 */

const PRINT = process.env.ORCHESTRATE_PRINT_TABLES !== undefined;
const SEEDS = PRINT ? 40 : 8;
const CONCURRENCY = 16;

interface Setting {
  inputTokens: number;
  /** "fixed": every request 128 tokens; "varied": uniform on 64–192. */
  lengths: "fixed" | "varied";
  perConcurrency: number;
  clients: number;
}

type Verdict = "steady" | "unsteady" | "not_judged";

async function verdict(setting: Setting, seed: number, slowdown?: { factor: number; at: number }) {
  const noise: SimConfigInput["noise"] = { step_jitter: 0.05, seed };
  if (slowdown) noise.slowdown = { factor: slowdown.factor, after_s: slowdown.at / 1000 };
  const config = parseSimConfig({ seed, replicas: setting.clients, noise });
  const run = await runVirtualLevel(config, {
    clients: setting.clients,
    concurrency: CONCURRENCY,
    requests: setting.perConcurrency * CONCURRENCY,
    warmup: CONCURRENCY,
    inputTokens: setting.inputTokens,
    outputTokens: setting.lengths === "fixed" ? 128 : (rng: Random) => 64 + rng.int(129),
    startSkewMs: 5,
    seed,
  });
  const a = aggregateRecords(run.files, { requested: fixedShape(setting.inputTokens, 128) });
  const s = assessSteadiness(a.sliceOutputRates, a.window.seconds / 10, a.medianRequestMs / 1000);
  return { verdict: s.verdict as Verdict, middle: (a.window.startUs + a.window.endUs) / 2000 };
}

/** For each seed: the steady run's verdict, and the verdicts with a slowdown from its window's middle. */
async function sweep(setting: Setting, factors: readonly number[]) {
  const steady: Verdict[] = [];
  const slowed: Record<number, Verdict[]> = Object.fromEntries(factors.map((f) => [f, []]));
  for (let seed = 1; seed <= SEEDS; seed++) {
    const base = await verdict(setting, seed);
    steady.push(base.verdict);
    for (const factor of factors)
      slowed[factor]!.push((await verdict(setting, seed, { factor, at: base.middle })).verdict);
  }
  return { steady, slowed };
}

const count = (verdicts: readonly Verdict[], v: Verdict) => verdicts.filter((x) => x === v).length;
const label = (s: Setting) =>
  `${s.inputTokens} in, ${s.lengths} out, ${s.perConcurrency} × concurrency, ${s.clients} client${s.clients > 1 ? "s" : ""}`;

describe("steadiness over seeds, in virtual time", { timeout: 300_000 }, () => {
  it("raises at most 5% false alarms on a steady simulator, and never leaves it unjudged", async () => {
    const rows: string[] = [];
    let alarms = 0;
    let runs = 0;
    for (const inputTokens of [64, 5000])
      for (const lengths of ["fixed", "varied"] as const)
        for (const perConcurrency of PRINT ? [3, 4, 6, 10] : [3, 4, 6])
          for (const clients of [1, 4]) {
            const setting = { inputTokens, lengths, perConcurrency, clients };
            const { steady } = await sweep(setting, []);
            expect(count(steady, "not_judged"), label(setting)).toBe(0);
            alarms += count(steady, "unsteady");
            runs += steady.length;
            rows.push(`${label(setting)}: ${count(steady, "unsteady")}/${steady.length} unsteady`);
          }
    if (PRINT) console.log(`false alarms: ${alarms}/${runs}\n${rows.join("\n")}`);
    expect(alarms / runs).toBeLessThanOrEqual(0.05);
  });

  it("flags a 2.5× slowdown halfway through the window in at least 95% of runs at 3 × concurrency", async () => {
    const rows: string[] = [];
    let caught = 0;
    let runs = 0;
    for (const inputTokens of [64, 5000])
      for (const clients of [1, 4]) {
        const setting = { inputTokens, lengths: "fixed" as const, perConcurrency: 3, clients };
        const { slowed } = await sweep(setting, PRINT ? [2.5, 1.5] : [2.5]);
        caught += count(slowed[2.5]!, "unsteady");
        runs += slowed[2.5]!.length;
        rows.push(
          `${label(setting)}: ${Object.entries(slowed)
            .map(
              ([factor, v]) =>
                `${factor}× ${count(v, "unsteady")}/${SEEDS} (not judged ${count(v, "not_judged")})`,
            )
            .join(", ")}`,
        );
      }
    if (PRINT) console.log(`detection: ${caught}/${runs}\n${rows.join("\n")}`);
    expect(caught / runs).toBeGreaterThanOrEqual(0.95);
  });
});
