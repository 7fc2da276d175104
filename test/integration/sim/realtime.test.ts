/**
 * The engine on real timers, through HTTP, against the closed-form schedule (a single replica,
 * ingress costs off so only the engine shapes the timing). Exact checks live in the virtual-time
 * unit tests; these prove the real-time loop keeps to the same formula within 2%, on a busy
 * machine, judged by the simulator's own timestamps and by the client's.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../../src/sim/simulator.js";
import { stream, tokenEvents } from "../../helpers/sim-client.js";

const ENGINE = {
  decode_base_ms: 8,
  decode_per_seq_ms: 0.2,
  prefill_ms_per_token: 0.001,
  stream_batching_interval_ms: 0,
};
const OUTPUT = 150;
const PROMPT = 16;

let server: RunningSimulator;
beforeAll(async () => {
  server = await startSimulator({
    replicas: 1,
    ingress_replicas: 1,
    engine: ENGINE,
    ingress: { request_overhead_ms: 0, chunk_cost_ms: 0 },
  });
});
afterAll(() => server.close());

describe("real-time engine vs the closed-form schedule", () => {
  it.each([1, 8, 32])("concurrency %i: TPOT, E2E and throughput within 2 percent", async (concurrency) => {
    const since = server.stats().next_since;
    const answers = await Promise.all(
      Array.from({ length: concurrency }, (_, i) =>
        stream(server.url, "/v1/completions", {
          prompt: Array.from({ length: PROMPT }, (_, t) => t + 100 * i),
          max_tokens: OUTPUT,
          ignore_eos: true,
          stream: true,
        }),
      ),
    );
    const records = server.stats({ since }).requests;
    expect(records).toHaveLength(concurrency);
    expect(records.every((r) => r.status === "ok" && r.completion_tokens === OUTPUT)).toBe(true);

    const step = ENGINE.decode_base_ms + ENGINE.decode_per_seq_ms * concurrency;
    const ttft = ENGINE.decode_base_ms + ENGINE.prefill_ms_per_token * PROMPT * concurrency;
    const within2 = (measured: number, expected: number) => {
      expect(Math.abs(measured / expected - 1)).toBeLessThan(0.02);
    };

    // Server side: every request decodes at the formula's step time.
    for (const record of records) {
      within2((record.finish_ms - record.first_token_ms!) / (OUTPUT - 1), step);
    }
    // Aggregate throughput over the whole batch, from the server's timestamps.
    const start = Math.min(...records.map((r) => r.arrival_ms));
    const end = Math.max(...records.map((r) => r.finish_ms));
    const expectedThroughput = (concurrency * OUTPUT) / ((ttft + (OUTPUT - 1) * step) / 1000);
    within2((concurrency * OUTPUT) / ((end - start) / 1000), expectedThroughput);

    // Client side: what a client measures agrees with the same formula.
    for (const answer of answers) {
      const tokens = tokenEvents(answer.events);
      expect(tokens).toHaveLength(OUTPUT);
      within2((tokens.at(-1)!.at - tokens[0]!.at) / (OUTPUT - 1), step);
    }
  });
});
