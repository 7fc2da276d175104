import { describe, expect, it } from "vitest";
import {
  collectGarbageBeforeLevel,
  IdleCollector,
  MIN_GAP_MS,
  SENDS_PER_COLLECTION,
} from "../../../src/bench/idle-gc.js";

describe("the idle collector", () => {
  it("runs a minor collection before a long enough wait once enough requests were sent, then counts again", () => {
    const calls: unknown[] = [];
    const collector = new IdleCollector((options) => calls.push(options));
    for (let i = 0; i < SENDS_PER_COLLECTION - 1; i++) collector.sent();
    collector.beforeWait(MIN_GAP_MS * 10);
    expect(calls).toEqual([]); // not enough garbage yet
    collector.sent();
    collector.beforeWait(MIN_GAP_MS - 0.1);
    expect(calls).toEqual([]); // no room before the next send
    collector.beforeWait(MIN_GAP_MS);
    expect(calls).toEqual([{ type: "minor" }]);
    collector.beforeWait(MIN_GAP_MS * 10);
    expect(calls).toHaveLength(1); // counting from zero again
  });

  it("collects everything before a level", () => {
    const calls: unknown[][] = [];
    collectGarbageBeforeLevel((...args) => calls.push(args));
    expect(calls).toEqual([[]]); // no options: a full collection
  });

  it("does nothing where gc is not exposed", () => {
    const collector = new IdleCollector(undefined);
    for (let i = 0; i < SENDS_PER_COLLECTION * 2; i++) collector.sent();
    expect(() => collector.beforeWait(100)).not.toThrow();
  });

  it("runs real minor and full collections in a process started with --expose-gc", async () => {
    const { execFileSync } = await import("node:child_process");
    const script = `
      const { PerformanceObserver } = require("node:perf_hooks");
      const kinds = [];
      new PerformanceObserver((list) => { for (const e of list.getEntries()) kinds.push(e.detail.kind); }).observe({ entryTypes: ["gc"] });
      gc({ type: "minor" });
      gc();
      setTimeout(() => process.stdout.write(JSON.stringify(kinds)), 50);
    `;
    const kinds = JSON.parse(
      execFileSync(process.execPath, ["--expose-gc", "-e", script], { encoding: "utf8" }),
    );
    // NODE_PERFORMANCE_GC_MINOR = 1, NODE_PERFORMANCE_GC_MAJOR = 4: each call does what it says.
    expect(kinds).toEqual([1, 4]);
  });
});
