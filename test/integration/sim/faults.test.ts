import { afterAll, describe, expect, it } from "vitest";
import type { SimConfigInput } from "../../../src/sim/config.js";
import { type RunningSimulator, startSimulator } from "../../../src/sim/simulator.js";
import { call, FAST_SIM, stream, streamedText, tokenEvents } from "../../helpers/sim-client.js";

const running: RunningSimulator[] = [];
async function sim(overrides: SimConfigInput): Promise<RunningSimulator> {
  const started = await startSimulator({ ...FAST_SIM, ...overrides });
  running.push(started);
  return started;
}
afterAll(async () => {
  await Promise.all(running.map((s) => s.close()));
});

const body = (n = 20, offset = 0) => ({
  prompt: Array.from({ length: 8 }, (_, i) => i + offset),
  max_tokens: n,
  ignore_eos: true,
  stream: true,
});

describe("fault switches", () => {
  it("error_rate with http_500 answers 500 with an error object", async () => {
    const server = await sim({ faults: { error_rate: 1 } });
    const answer = await call(server.url, "/v1/completions", { body: { ...body(), stream: false } });
    expect(answer.status).toBe(500);
    expect(answer.json.error).toMatchObject({ type: "InternalServerError", code: 500 });
    const streamed = await stream(server.url, "/v1/completions", body());
    expect(streamed.status).toBe(500);
    expect(server.stats().total).toMatchObject({ error: 2, tokens_generated: 0 });
  });

  it("error_rate with in_stream fails mid-stream with an error event, then [DONE]", async () => {
    const server = await sim({ faults: { error_rate: 1, error_mode: "in_stream" } });
    const answer = await stream(server.url, "/v1/completions", body(30));
    expect(answer.status).toBe(200);
    expect(answer.done).toBe(true);
    const last = answer.events.at(-1)!.json;
    expect(last.error).toMatchObject({ code: 500, message: expect.stringMatching(/in-stream fault/) });
    const tokens = tokenEvents(answer.events).length;
    expect(tokens).toBeGreaterThanOrEqual(1);
    expect(tokens).toBeLessThan(30);
    const record = server.stats().requests[0]!;
    expect(record).toMatchObject({ status: "error", completion_tokens: tokens });
    // The failed request no longer holds its slot.
    expect(server.stats().total).toMatchObject({ running: 0, in_flight: 0 });
    const whole = await call(server.url, "/v1/completions", { body: { ...body(), stream: false } });
    expect(whole.status).toBe(500);
  });

  it("cut_rate destroys the connection mid-stream, before [DONE]", async () => {
    const server = await sim({ faults: { cut_rate: 1 } });
    const answer = await stream(server.url, "/v1/completions", body(30));
    expect(answer.status).toBe(200);
    expect(answer.done).toBe(false);
    expect(answer.broken).toBe(true);
    const tokens = tokenEvents(answer.events).length;
    expect(tokens).toBeLessThan(30);
    expect(server.stats().requests[0]).toMatchObject({ status: "cut", completion_tokens: tokens });
    await expect(
      call(server.url, "/v1/completions", { body: { ...body(), stream: false } }),
    ).rejects.toThrow();
  });

  it("stall_first_token_ms delays the first token by that much", async () => {
    const server = await sim({ faults: { stall_first_token_ms: 300 } });
    const answer = await stream(server.url, "/v1/completions", body(5));
    const record = server.stats().requests[0]!;
    expect(record.first_token_ms! - record.arrival_ms).toBeGreaterThanOrEqual(300);
    expect(tokenEvents(answer.events)[0]!.at - answer.sentAt).toBeGreaterThanOrEqual(299);
    expect(answer.done).toBe(true);
  });

  it("startup_delay_ms: unhealthy and 503 until the delay passes", async () => {
    const server = await sim({ faults: { startup_delay_ms: 400 } });
    const early = await call(server.url, "/-/healthz");
    expect(early.status).toBe(503);
    expect(early.text).toMatch(/starting up/);
    const refused = await call(server.url, "/v1/completions", { body: { ...body(), stream: false } });
    expect(refused.status).toBe(503);
    expect((await call(server.url, "/v1/models")).status).toBe(503); // nothing to route to yet
    await waitFor(async () => (await call(server.url, "/-/healthz")).status === 200, 3_000);
    const served = await call(server.url, "/v1/completions", { body: { ...body(), stream: false } });
    expect(served.status).toBe(200);
  });

  it("never_healthy: health and generation answer 503 for good", async () => {
    const server = await sim({ faults: { never_healthy: true } });
    const health = await call(server.url, "/-/healthz");
    expect(health.status).toBe(503);
    expect(health.text).toMatch(/never/);
    const refused = await call(server.url, "/v1/completions", { body: { ...body(), stream: false } });
    expect(refused.status).toBe(503);
    expect(refused.json.error.type).toBe("ServiceUnavailableError");
    expect((await call(server.url, "/v1/models")).status).toBe(503);
  });

  it("hits the configured fraction of requests, the same ones for the same seed", async () => {
    const outcomes = async (seed: number) => {
      const server = await sim({ seed, faults: { error_rate: 0.3, cut_rate: 0.2 } });
      const statuses: string[] = [];
      for (let i = 0; i < 60; i++) {
        const answer = await stream(server.url, "/v1/completions", body(6, i)).catch(() => undefined);
        statuses.push(answer === undefined ? "x" : answer.status === 500 ? "E" : answer.done ? "." : "C");
      }
      return statuses.join("");
    };
    const first = await outcomes(11);
    expect(await outcomes(11)).toBe(first);
    expect(await outcomes(12)).not.toBe(first);
    const errors = first.split("E").length - 1;
    const cuts = first.split("C").length - 1;
    expect(errors).toBeGreaterThanOrEqual(8); // 30% of 60 = 18, binomial spread
    expect(errors).toBeLessThanOrEqual(30);
    expect(cuts).toBeGreaterThanOrEqual(3); // 20% of the 70% that did not fail
    expect(cuts).toBeLessThanOrEqual(20);
  });
});

describe("determinism", () => {
  it("gives the same ids, texts and routes for the same seed, other texts for another seed", async () => {
    const transcript = async (seed: number) => {
      const server = await sim({ seed, replicas: 3, ingress_replicas: 3 });
      const lines: string[] = [];
      for (let i = 0; i < 12; i++) {
        const answer = await stream(server.url, "/v1/completions", body(5, i));
        lines.push(`${answer.events[0]!.json.id} ${streamedText(answer.events)}`);
      }
      const routes = server.stats().requests.map((r) => `${r.ingress}/${r.replica}`);
      return { lines, routes };
    };
    const a = await transcript(5);
    const b = await transcript(5);
    const c = await transcript(6);
    expect(b).toEqual(a);
    expect(new Set(a.routes).size).toBeGreaterThan(1);
    expect(c.lines).not.toEqual(a.lines);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
