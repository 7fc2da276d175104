import { afterEach, describe, expect, it } from "vitest";
import { readinessProbe } from "../../src/run/adapters.js";
import { type RunningSimulator, startSimulator } from "../../src/sim/index.js";
import { watchSleep } from "../helpers/timing-margin.js";

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe("the readiness check after RUNNING", () => {
  it("waits out a service that still answers 503, then passes with a smoke completion", async () => {
    sim = await startSimulator({ model: "m", token: "ready-token-1", faults: { startup_delay_ms: 1_500 } });
    const started = Date.now();
    const said = await readinessProbe.check({ name: "svc", url: sim.url, token: "ready-token-1" }, "m");
    expect(said).toMatch(/^m: first token after \d+ ms, 16 tokens$/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
  });

  it("fails at once when the service serves another model", async () => {
    sim = await startSimulator({ model: "other-model" });
    const sleep = watchSleep();
    await expect(readinessProbe.check({ name: "svc", url: sim.url }, "m")).rejects.toThrow(
      "svc serves other-model, not m",
    );
    // No retry: that would sleep at least its 1 s backoff (the simulator runs in this process, so
    // answering it is work, not sleep).
    expect(sleep.sleptMs()).toBeLessThan(1_000);
  });

  it("fails at once on a wrong token", async () => {
    sim = await startSimulator({ model: "m", token: "right-token-1" });
    await expect(
      readinessProbe.check({ name: "svc", url: sim.url, token: "wrong-token-1" }, "m"),
    ).rejects.toMatchObject({
      kind: "auth",
    });
  });
});
