import { describe, expect, it } from "vitest";
import { slowdownOption } from "../../../src/commands/sim.js";
import { parseSimConfig } from "../../../src/sim/config.js";
import { StepNoise } from "../../../src/sim/noise.js";

const noise = (input: Record<string, unknown>) => parseSimConfig({ noise: input }).noise;

describe("step-time noise of a simulated replica", () => {
  it("is off by default", () => {
    expect(StepNoise.isQuiet(parseSimConfig({}).noise)).toBe(true);
    expect(StepNoise.isQuiet(noise({ step_jitter: 0.1 }))).toBe(false);
  });

  it("has mean 1 and the asked relative spread, and one seed gives the same factors", () => {
    const config = noise({ step_jitter: 0.15 });
    const a = new StepNoise(config, 42, 0);
    const b = new StepNoise(config, 42, 0);
    const other = new StepNoise(config, 43, 0);
    const xs = Array.from({ length: 20_000 }, (_, i) => a.multiplier(i * 10));
    expect(Array.from({ length: 20_000 }, (_, i) => b.multiplier(i * 10))).toEqual(xs);
    expect(other.multiplier(0)).not.toBe(xs[0]);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1));
    expect(mean).toBeCloseTo(1, 1);
    expect(sd / mean).toBeGreaterThan(0.13);
    expect(sd / mean).toBeLessThan(0.17);
  });

  it("holds one factor per period, the same whatever steps were asked before", () => {
    const config = noise({ step_jitter: 0.2, jitter_period_ms: 1000 });
    const a = new StepNoise(config, 1, 2);
    const b = new StepNoise(config, 1, 2);
    a.multiplier(0);
    b.multiplier(0);
    expect(a.multiplier(100)).toBe(a.multiplier(900));
    expect(a.multiplier(1500)).not.toBe(a.multiplier(900));
    // b skips straight to the third period and still gets a's factor there.
    expect(b.multiplier(2500)).toBe(a.multiplier(2400));
    expect(new StepNoise(config, 1, 3).multiplier(0)).not.toBe(new StepNoise(config, 1, 2).multiplier(0));
  });

  it("slows every step by the factor during the episode, counted from the first request", () => {
    const s = new StepNoise(noise({ slowdown: { factor: 2.5, after_s: 2, duration_s: 1 } }), 0, 0);
    expect(s.multiplier(10_000)).toBe(1); // the first request: the episode's clock starts here
    expect(s.multiplier(11_999)).toBe(1);
    expect(s.multiplier(12_000)).toBe(2.5);
    expect(s.multiplier(12_999)).toBe(2.5);
    expect(s.multiplier(13_000)).toBe(1);
  });

  it("rejects settings that make no sense, naming the key", () => {
    expect(() => parseSimConfig({ noise: { step_jitter: -1 } })).toThrow(/invalid simulator settings/);
    expect(() => parseSimConfig({ noise: { slowdown: { after_s: 1 } } })).toThrow();
    expect(() => parseSimConfig({ noise: { jitter: 0.1 } })).toThrow();
  });

  it("reads the --slowdown flag as FACTOR@AFTER_S[+DURATION_S]", () => {
    expect(slowdownOption("2.5@5+10")).toEqual({ factor: 2.5, after_s: 5, duration_s: 10 });
    expect(slowdownOption("3@0")).toEqual({ factor: 3, after_s: 0 });
    expect(() => slowdownOption("2.5")).toThrow(/FACTOR@AFTER_S/);
    expect(() => slowdownOption("2@1+0")).toThrow(/duration/);
  });
});
