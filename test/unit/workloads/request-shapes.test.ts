import { afterEach, describe, expect, it, vi } from "vitest";
import { resolveOptions } from "../../../src/bench/options.js";
import { replayConnections } from "../../../src/bench/part.js";
import { replayLoop } from "../../../src/bench/schedulers.js";
import { Workload } from "../../../src/bench/workload.js";
import { UserError } from "../../../src/errors.js";
import type { ShapeSource } from "../../../src/workloads/request-shape.js";

/** How a request's own shape (a dataset row, a trace row) becomes its body, and the options around it. */

describe("bodies from request shapes", () => {
  const workload = (shapes: ShapeSource) =>
    new Workload({ model: "m", endpoint: "completions", promptFormat: "token-ids", seed: 1, shapes });

  it("sends a dataset's prompt text as it is, with the row's max_tokens", () => {
    const w = workload((i) => ({ inputTokens: 3, outputTokens: 10 + i, promptText: `say "${i}"` }));
    const body = JSON.parse(w.body(2));
    expect(body.prompt).toBe('say "2"');
    expect(body.max_tokens).toBe(12);
    expect(body.ignore_eos).toBe(true);
  });

  it("sends a trace row as exactly input_length random token ids", () => {
    const w = workload((i) => ({ inputTokens: 5 + i, outputTokens: 3 }));
    expect(JSON.parse(w.body(0)).prompt).toHaveLength(5);
    expect(JSON.parse(w.body(7)).prompt).toHaveLength(12);
    expect(JSON.parse(w.body(7)).max_tokens).toBe(3);
  });
});

describe("replay options", () => {
  const base = {
    baseUrl: "http://127.0.0.1:1",
    clients: 2,
    inputTokens: 8,
    outputTokens: 8,
    expDir: "/tmp/x",
  };
  const trace = { kind: "trace" as const, format: "mooncake" as const, path: "t.jsonl" };

  it("a replay needs its trace, and takes no count or duration", () => {
    const error = (() => {
      try {
        resolveOptions({ ...base, mode: "replay", levels: [1], numPrompts: 5, durationS: 2 });
      } catch (e) {
        return e as UserError;
      }
    })();
    expect(error).toBeInstanceOf(UserError);
    expect(error?.details).toEqual(
      expect.arrayContaining([
        "• mode replay: needs a trace to replay (--trace FILE)",
        "• numPrompts: a replay sends every row of its trace; leave it out",
        "• durationS: a replay lasts as long as its trace at the speed; leave it out",
      ]),
    );
    expect(() => resolveOptions({ ...base, mode: "concurrency", levels: [1], workloadFile: trace })).toThrow(
      "the benchmark options are not valid",
    );
    expect(resolveOptions({ ...base, mode: "replay", levels: [0.5, 2], workloadFile: trace }).levels).toEqual(
      [0.5, 2],
    );
  });

  it("opens as many connections as the schedule would keep in flight at a slow decode", () => {
    // Each request assumed to last 1 s + 25 ms a token: 100 tokens = 3.5 s.
    const hundred = () => 100;
    expect(replayConnections(Float64Array.from([0, 100, 200, 4000, 4100, 4200, 4300, 9000]), hundred)).toBe(
      4,
    );
    expect(replayConnections(Float64Array.from([0, 100, 200]), () => 0)).toBe(3);
    expect(replayConnections(Float64Array.from([0, 1000, 2000]), () => 0)).toBe(1);
    expect(replayConnections(new Float64Array(0), hundred)).toBe(0);
  });
});

describe("the replay loop", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sends row i at start + its time on the absolute schedule, and ends with the schedule", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const now = () => performance.now();
    const start = now() + 5;
    const sendAtMs = [0, 0, 3, 10, 10.5, 40];
    const sent: Array<{ index: number; warmup: boolean; scheduled: number; at: number }> = [];
    const run = replayLoop({
      sendAtMs,
      start,
      warmup: 2,
      now,
      stop: new AbortController().signal,
      issue: async ({ index, warmup, scheduledAt }) => {
        sent.push({ index, warmup, scheduled: scheduledAt!, at: now() });
        await new Promise((r) => setTimeout(r, 50)); // longer than the gaps: sends never wait on answers
      },
    });
    await vi.runAllTimersAsync();
    const times = await run;
    expect(times.issued).toBe(sendAtMs.length);
    expect(sent.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(sent.map((s) => s.warmup)).toEqual([true, true, false, false, false, false]);
    for (const [i, s] of sent.entries()) {
      expect(s.scheduled).toBeCloseTo(start + sendAtMs[i]!, 6);
      expect(s.at - s.scheduled).toBeGreaterThanOrEqual(0);
      expect(s.at - s.scheduled).toBeLessThan(1);
    }
  });
});
