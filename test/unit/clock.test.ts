import { describe, expect, it } from "vitest";
import { monotonicClock, VirtualClock, wallClock } from "../../src/clock.js";

describe("the virtual clock", () => {
  it("wakes sleepers and timers in time order, only when the test advances it", async () => {
    const clock = new VirtualClock(100);
    const woke: string[] = [];
    const sleeping = clock.sleep(50).then(() => woke.push("slept"));
    clock.at(120, () => woke.push(`timer at ${clock.now()}`));
    clock.advanceTo(149);
    await Promise.resolve();
    expect(woke).toEqual(["timer at 120"]);

    clock.advanceTo(150);
    await sleeping;
    expect(woke).toEqual(["timer at 120", "slept"]);
  });

  it("rejects a sleep as the real clocks do when its signal aborts, and drops its timer", async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const sleeping = clock.sleep(1_000, controller.signal);
    controller.abort(new Error("stop"));
    await expect(sleeping).rejects.toMatchObject({ name: "AbortError", cause: new Error("stop") });
    expect(clock.pendingTimers()).toBe(0);
    await expect(clock.sleep(10, controller.signal)).rejects.toMatchObject({ name: "AbortError" });
  });
});

describe("the real clocks", () => {
  it("read epoch time on the wall clock and convert monotonic time to epoch time", () => {
    const before = Date.now();
    expect(wallClock.now()).toBeGreaterThanOrEqual(before);
    expect(wallClock.toEpochMs(before)).toBe(before);
    // The monotonic clock may drift from the wall clock, but not by more than a second here.
    expect(Math.abs(monotonicClock.toEpochMs(monotonicClock.now()) - Date.now())).toBeLessThan(1_000);
  });

  it("sleep for real, and abort", async () => {
    const started = monotonicClock.now();
    await monotonicClock.sleep(20);
    expect(monotonicClock.now() - started).toBeGreaterThanOrEqual(19);
    await expect(wallClock.sleep(10_000, AbortSignal.abort(new Error("gone")))).rejects.toMatchObject({
      name: "AbortError",
      cause: new Error("gone"),
    });
  });
});
