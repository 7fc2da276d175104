import { describe, expect, it } from "vitest";
import { type BenchProgress, formatBenchProgress, formatSeconds } from "../../../src/bench/progress.js";

/** The progress line of `bench` and of a run's benchmark step. */
describe("benchmark progress", () => {
  const at = 1_000_000;
  const progress = (over: Partial<BenchProgress>): BenchProgress => ({
    level: "conc16",
    done: 40,
    total: 160,
    failed: 0,
    position: 3,
    levels: 7,
    repeat: 1,
    repeats: 1,
    startedAtMs: at,
    ...over,
  });

  it("says which level of the sweep, the requests, the time elapsed and what is left at the rate so far", () => {
    expect(formatBenchProgress(progress({}), at + 10_000)).toBe(
      "conc16 (level 3 of 7): 40/160 requests, 10 s elapsed, about 30 s left",
    );
  });

  it("says which repeat of how many, and the failures", () => {
    expect(
      formatBenchProgress(
        progress({ level: "repeat2/conc16", repeat: 2, repeats: 3, failed: 2 }),
        at + 10_000,
      ),
    ).toBe("conc16 (level 3 of 7, repeat 2 of 3): 40/160 requests, 2 failed, 10 s elapsed, about 30 s left");
  });

  it("gives no estimate before a request has finished, and the rest of the time for a timed level", () => {
    expect(formatBenchProgress(progress({ done: 0 }), at + 2_000)).toBe(
      "conc16 (level 3 of 7): 0/160 requests, 2 s elapsed",
    );
    expect(formatBenchProgress(progress({ durationS: 60, total: 75 }), at + 15_000)).toMatch(
      /15 s elapsed, about 45 s left$/,
    );
  });

  it("writes durations as a person reads them", () => {
    expect(formatSeconds(42.4)).toBe("42 s");
    expect(formatSeconds(185)).toBe("3 min 05 s");
    expect(formatSeconds(3720)).toBe("1 h 02 min");
  });
});
