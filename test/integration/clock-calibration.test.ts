import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { epochOfMonotonicZero } from "../../src/clock.js";

/**
 * The epoch of performance.now()'s zero is what bench clients meet a barrier by (part.ts), so two
 * readings must agree far better than Date.now()'s whole milliseconds: readings taken at
 * different points of a millisecond would spread over the whole millisecond if the tick were not
 * waited for.
 */
describe("epochOfMonotonicZero", () => {
  it("agrees with itself to a fraction of a millisecond, and with the wall clock", async () => {
    const readings: number[] = [];
    for (let i = 0; i < 8; i++) {
      readings.push(epochOfMonotonicZero());
      // A different point of the millisecond each time.
      await sleep(1 + i * 0.37);
    }
    const spread = Math.max(...readings) - Math.min(...readings);
    expect(spread).toBeLessThanOrEqual(0.25);
    expect(Math.abs(readings[0]! + performance.now() - Date.now())).toBeLessThanOrEqual(1);
  });
});
