import { afterEach, describe, expect, it } from "vitest";
import { readinessProbe } from "../../src/run/adapters.js";
import { type RunningSimulator, startSimulator } from "../../src/sim/index.js";

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
    const started = Date.now();
    await expect(readinessProbe.check({ name: "svc", url: sim.url }, "m")).rejects.toThrow(
      "svc serves other-model, not m",
    );
    expect(Date.now() - started).toBeLessThan(1_000);
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
