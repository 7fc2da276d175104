import { describe, expect, it } from "vitest";
import { benchOptionsFromFlags } from "../../../src/bench/bench-command.js";
import { clientVerdict } from "../../../src/bench/client-health.js";
import {
  parseBurstiness,
  parseGoodput,
  parseLevelList,
  requestsPerLevel,
  resolveOptions,
  warmupPerLevel,
} from "../../../src/bench/options.js";
import { Workload } from "../../../src/bench/workload.js";
import { UserError } from "../../../src/errors.js";

const base = {
  baseUrl: "http://127.0.0.1:8000",
  clients: 2,
  mode: "concurrency" as const,
  levels: [4, 8],
  inputTokens: 5000,
  outputTokens: 250,
  expDir: "/tmp/x",
};

describe("benchmark options", () => {
  it("apply the seed's defaults", () => {
    const plan = resolveOptions(base);
    expect(plan).toMatchObject({
      warmup: "one-wave",
      repeats: 1,
      burstiness: 1,
      promptFormat: "token-ids",
      overwrite: "refuse",
    });
    expect(requestsPerLevel(plan, 16)).toBe(160);
    expect(
      requestsPerLevel({ mode: "request-rate", numPrompts: undefined, promptsPerConcurrency: 10 }, 2),
    ).toBe(500);
    expect(requestsPerLevel({ mode: "concurrency", numPrompts: 7, promptsPerConcurrency: 10 }, 16)).toBe(7);
  });

  it("warm up one wave per client by default (none at a rate), a fixed count when told, 0 = off", () => {
    expect(warmupPerLevel(resolveOptions(base), 16)).toBe(16);
    expect(warmupPerLevel(resolveOptions({ ...base, mode: "request-rate", levels: [2] }), 2)).toBe(0);
    expect(warmupPerLevel(resolveOptions({ ...base, warmup: 0 }), 16)).toBe(0);
    expect(warmupPerLevel(resolveOptions({ ...base, warmup: 5 }), 16)).toBe(5);
  });

  it("read --repeats and --warmup from the command line", () => {
    const flags = (extra: Record<string, string>) =>
      benchOptionsFromFlags("exp", { concurrency: "4", ...extra }, {});
    expect(flags({ repeats: "3" })).toMatchObject({ repeats: 3 });
    expect(flags({}).warmup).toBeUndefined();
    expect(flags({ warmup: "0" }).warmup).toBe(0);
    expect(() => flags({ repeats: "0" })).toThrow(/--repeats/);
    expect(() => resolveOptions({ ...base, repeats: 1.5 })).toThrow(UserError);
  });

  it("scale requests with the concurrency by a chosen factor", () => {
    const plan = resolveOptions({ ...base, promptsPerConcurrency: 4 });
    expect(requestsPerLevel(plan, 16)).toBe(64);
    expect(() => resolveOptions({ ...base, promptsPerConcurrency: 4, numPrompts: 10 })).toThrow(/not valid/);
    expect(() => resolveOptions({ ...base, promptsPerConcurrency: 0 })).toThrow(/not valid/);
  });

  it("report every problem at once", () => {
    try {
      resolveOptions({
        ...base,
        clients: 0,
        levels: [4, 4, 2.5],
        numPrompts: 3,
        durationS: 10,
        baseUrl: "ftp://x",
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).details).toEqual([
        "• baseUrl: not an http(s) URL: ftp://x",
        "• clients: must be a whole number ≥ 1, got 0",
        "• levels: concurrency must be a whole number ≥ 1, got 2.5",
        "• levels: a level is listed twice",
        "• numPrompts and durationS: give one or the other, not both",
      ]);
    }
  });

  it("parse level lists, ranges, SLOs and burstiness", () => {
    expect(parseLevelList("4, 8,16", "-c")).toEqual([4, 8, 16]);
    expect(parseLevelList("1..4,6", "-r")).toEqual([1, 2, 3, 4, 6]);
    expect(parseLevelList("0.5,1.5", "-r")).toEqual([0.5, 1.5]);
    expect(() => parseLevelList("4,x", "-c")).toThrow(/"x" is not a number/);
    expect(parseGoodput("ttft:500,tpot:50,e2el:20000")).toEqual({ ttftMs: 500, tpotMs: 50, e2elMs: 20000 });
    expect(() => parseGoodput("ttft=500")).toThrow(/METRIC:MS/);
    expect(parseBurstiness("inf")).toBe(Number.POSITIVE_INFINITY);
    expect(parseBurstiness("0.5")).toBe(0.5);
    expect(() => parseBurstiness("0")).toThrow(UserError);
  });
});

describe("the workload", () => {
  it("sends exactly --itl random token ids, the same for the same seed and index", () => {
    const w = new Workload({
      model: "m",
      inputTokens: 5000,
      outputTokens: 250,
      promptFormat: "token-ids",
      seed: 9,
    });
    const body = JSON.parse(w.body(3));
    expect(body).toMatchObject({
      model: "m",
      max_tokens: 250,
      ignore_eos: true,
      stream: true,
      stream_options: { include_usage: true, continuous_usage_stats: true },
    });
    expect(body.prompt).toHaveLength(5000);
    expect(body.prompt.every((id: number) => Number.isInteger(id) && id >= 1000 && id < 30000)).toBe(true);
    expect(w.body(3)).toBe(
      new Workload({
        model: "m",
        inputTokens: 5000,
        outputTokens: 250,
        promptFormat: "token-ids",
        seed: 9,
      }).body(3),
    );
    expect(JSON.parse(w.body(4)).prompt.slice(0, 20)).not.toEqual(body.prompt.slice(0, 20));
  });

  it("sends --itl words as text when asked", () => {
    const w = new Workload({ model: "m", inputTokens: 100, outputTokens: 5, promptFormat: "text", seed: 1 });
    const prompt = JSON.parse(w.body(0)).prompt as string;
    expect(prompt.split(" ")).toHaveLength(100);
  });
});

describe("the client verdict", () => {
  const health = {
    wall_s: 30,
    event_loop_samples: 6000,
    event_loop_lag_p99_ms: 3,
    event_loop_lag_max_ms: 9,
    event_loop_lag_mean_ms: 1,
    cpu_percent: 40,
  };

  it("is ok for a healthy client that held its load", () => {
    expect(
      clientVerdict({
        health,
        mode: "concurrency",
        target: 64,
        achievedConcurrency: 63.5,
        medianRequestMs: 8000,
      }),
    ).toEqual({ verdict: "ok", reasons: [] });
  });

  it("names every reason a client was the bottleneck", () => {
    const v = clientVerdict({
      health: { ...health, event_loop_lag_p99_ms: 45, cpu_percent: 98 },
      mode: "concurrency",
      target: 64,
      achievedConcurrency: 50,
      medianRequestMs: 8000,
    });
    expect(v.verdict).toBe("client_bound");
    expect(v.reasons).toEqual([
      "event-loop lag p99 45 ms > 20 ms",
      "client CPU 98% > 90% of a core",
      "achieved concurrency 50 < 57.6 (target 64)",
    ]);
    expect(clientVerdict({ health, mode: "request-rate", target: 5, scheduleLagP99Ms: 35 }).reasons).toEqual([
      "schedule lag p99 35 ms > 20 ms",
    ]);
  });

  it("does not judge lag and CPU on a level too short to measure them", () => {
    const short = { ...health, wall_s: 0.2, event_loop_lag_p99_ms: 45, cpu_percent: 98 };
    expect(clientVerdict({ health: short, mode: "concurrency", target: 4 }).verdict).toBe("ok");
  });
});
