import { afterEach, describe, expect, it, onTestFinished, vi } from "vitest";
import { closedLoop, nextGapMs, openLoop, replayLoop, sleepUntil } from "../../../src/bench/schedulers.js";
import { Random } from "../../../src/random.js";

// The global performance, which fake timers replace (the node:perf_hooks export they do not).
const now = () => performance.now();

function gapStats(rate: number, burstiness: number, n = 20_000) {
  const rng = new Random(11);
  const gaps = Array.from({ length: n }, () => nextGapMs(rate, burstiness, rng));
  const mean = gaps.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / n);
  return { mean, cv: sd / mean };
}

describe("arrival processes", () => {
  it("Poisson (burstiness 1): exponential gaps, mean 1/rate, coefficient of variation 1", () => {
    const { mean, cv } = gapStats(50, 1);
    expect(mean).toBeGreaterThan(20 * 0.98);
    expect(mean).toBeLessThan(20 * 1.02);
    expect(cv).toBeCloseTo(1, 1);
  });

  it("gamma (burstiness k): same mean, coefficient of variation 1/√k", () => {
    for (const k of [0.25, 4]) {
      const { mean, cv } = gapStats(50, k);
      expect(mean / 20).toBeCloseTo(1, 1);
      expect(cv).toBeCloseTo(1 / Math.sqrt(k), 1);
    }
  });

  it("constant spacing (burstiness ∞)", () => {
    expect(gapStats(50, Number.POSITIVE_INFINITY, 10)).toEqual({ mean: 20, cv: 0 });
  });
});

describe("open loop", () => {
  // Fake timers: the schedule is judged exactly, with the stall made on purpose, not by a busy
  // machine.
  afterEach(() => {
    vi.useRealTimers();
  });

  it("keeps to the absolute schedule: a stalled event loop delays sends, never the ones after it", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    // The loop's clock, which jumps 150 ms while the loop is stalled (30 arrivals' worth).
    let stalled = 0;
    const clock = () => now() + stalled;
    const start = clock() + 5;
    const sent: Array<{ scheduled: number; at: number }> = [];
    const run = openLoop({
      rate: 200,
      burstiness: Number.POSITIVE_INFINITY,
      rng: new Random(1),
      start,
      count: 80,
      warmup: 0,
      now: clock,
      stop: new AbortController().signal,
      issue: async ({ index, scheduledAt }) => {
        sent.push({ scheduled: scheduledAt!, at: clock() });
        if (index === 10) stalled += 150;
        await new Promise((r) => setTimeout(r, 30)); // requests overlap; the loop does not wait
      },
    });
    await vi.runAllTimersAsync();
    const times = await run;
    expect(times.issued).toBe(80);
    for (const [i, { scheduled }] of sent.entries()) expect(scheduled).toBeCloseTo(start + i * 5, 6);
    const late = sent.map(({ scheduled, at }) => at - scheduled);
    // On time up to the stall; the sends it held back go out at once when it ends (the first of
    // them 145 ms late), and from the one due then on all are on time again: no drift. With
    // relative sleeps every send after the stall would be at least 145 ms late.
    expect(late.slice(0, 11).every((l) => l >= 0 && l < 1)).toBe(true);
    expect(late[11]).toBeCloseTo(145, 6);
    for (let i = 11; i <= 40; i++) expect(sent[i]!.at).toBeCloseTo(start + 200, 6);
    expect(late.slice(40).every((l) => l >= 0 && l < 1)).toBe(true);
  });

  it("offers the wait before each send that is not due yet to beforeWait, and no wait for one already due", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const start = now();
    const waits: Array<{ before: number; gap: number }> = [];
    let issued = 0;
    // Sends at 0 (due at once), 10 and 12 ms, then 12 again (due with the one before it).
    const run = replayLoop({
      sendAtMs: [0, 10, 12, 12],
      start,
      warmup: 0,
      now,
      stop: new AbortController().signal,
      beforeWait: (gap) => waits.push({ before: issued, gap }),
      issue: async () => {
        issued += 1;
      },
    });
    await vi.runAllTimersAsync();
    expect((await run).issued).toBe(4);
    expect(waits.map((w) => w.before)).toEqual([1, 2]);
    expect(waits[0]!.gap).toBeCloseTo(10, 6);
    expect(waits[1]!.gap).toBeCloseTo(2, 6);
  });

  it("stops issuing when told to", async () => {
    const stop = new AbortController();
    let issued = 0;
    const times = await openLoop({
      rate: 1000,
      burstiness: 1,
      rng: new Random(2),
      start: now(),
      warmup: 0,
      now,
      stop: stop.signal,
      issue: async () => {
        issued += 1;
        if (issued === 20) stop.abort();
      },
    });
    expect(times.issued).toBe(20);
  });
});

describe("closed loop", () => {
  it("keeps exactly `concurrency` requests in flight and issues warmup + count", async () => {
    let inFlight = 0;
    let most = 0;
    const warm: boolean[] = [];
    const times = await closedLoop({
      concurrency: 3,
      count: 9,
      warmup: 2,
      now,
      stop: new AbortController().signal,
      issue: async ({ warmup }) => {
        warm.push(warmup);
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 5 + warm.length));
        inFlight -= 1;
      },
    });
    expect(times.issued).toBe(11);
    expect(most).toBe(3);
    expect(warm.filter(Boolean).length).toBe(2);
    expect(warm.slice(0, 2)).toEqual([true, true]);
    expect(times.steadyUntil).toBeGreaterThan(times.steadyFrom);
  });

  it("starts the steady state only once every warm-up request has finished", async () => {
    // A wave of 4 warm-up requests whose last one runs long (a staggered prefill): measured
    // requests start as the short ones finish, but their window may not, or it would count the
    // long one's time without its tokens.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const start = now();
    const durations = [10, 10, 10, 25];
    const run = closedLoop({
      concurrency: 4,
      count: 12,
      warmup: 4,
      now,
      stop: new AbortController().signal,
      issue: ({ index }) => new Promise((r) => setTimeout(r, durations[index] ?? 10)),
    });
    await vi.runAllTimersAsync();
    const times = await run;
    expect(times.steadyFrom - start).toBe(25);
    expect(times.steadyUntil).toBeGreaterThan(times.steadyFrom);
  });

  it("issues until the deadline in duration mode", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const deadline = now() + 60;
    const run = closedLoop({
      concurrency: 2,
      deadline,
      warmup: 0,
      now,
      stop: new AbortController().signal,
      issue: () => new Promise((r) => setTimeout(r, 10)),
    });
    await vi.runAllTimersAsync();
    const times = await run;
    // Two slots, a request every 10 ms in each, issued at 0, 10, … 50 ms: at 60 ms it stops.
    expect(times.issued).toBe(12);
    expect(times.steadyUntil).toBeLessThan(deadline);
  });
});

describe("sleepUntil", () => {
  it("never returns before the time asked for", async () => {
    for (let i = 0; i < 20; i++) {
      const t = now() + 0.3 + i * 0.37;
      await sleepUntil(t, now);
      expect(now()).toBeGreaterThanOrEqual(t);
    }
  });
});
