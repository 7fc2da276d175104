import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../../src/clock.js";
import { parseSimConfig, type SimConfigInput } from "../../../src/sim/config.js";
import { type ServiceListener, ServiceModel } from "../../../src/sim/service.js";

const ENGINE = {
  decode_base_ms: 8,
  decode_per_seq_ms: 0.08,
  prefill_ms_per_token: 0.02,
  stream_batching_interval_ms: 0,
};
const INGRESS = { request_overhead_ms: 3, chunk_cost_ms: 0.3 };

function service(input: SimConfigInput) {
  const clock = new VirtualClock();
  const config = parseSimConfig(input);
  return { clock, config, model: new ServiceModel(config, clock, 0) };
}

interface Outcome {
  routedTo?: number;
  chunks: Array<{ time: number; tokens: number }>;
  rejected?: string;
  done: boolean;
}

function listen(onDone?: () => void): { outcome: Outcome; listener: ServiceListener } {
  const outcome: Outcome = { chunks: [], done: false };
  return {
    outcome,
    listener: {
      onRouted: ({ replica }) => {
        outcome.routedTo = replica;
      },
      onChunk: (time, tokens, _delivered, last) => {
        outcome.chunks.push({ time, tokens });
        if (last) {
          outcome.done = true;
          onDone?.();
        }
      },
      onRejected: (message) => {
        outcome.rejected = message;
      },
    },
  };
}

const prompt = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * Closed-loop clients in virtual time: `concurrency` requests in flight, each replaced the moment
 * its last chunk arrives. Returns output tokens/s delivered between warmup and horizon.
 */
function closedLoopThroughput(
  input: SimConfigInput,
  concurrency: number,
  warmup = 2_000,
  horizon = 8_000,
): number {
  const { clock, model } = service(input);
  let tokensInWindow = 0;
  const start = () => {
    const { listener } = listen(start);
    const onChunk = listener.onChunk;
    listener.onChunk = (time, tokens, delivered, last) => {
      if (time >= warmup && time < horizon) tokensInWindow += tokens;
      onChunk(time, tokens, delivered, last);
    };
    model.submit({ promptTokenIds: prompt(64), outputTokens: 100, stream: true }, listener);
  };
  for (let i = 0; i < concurrency; i++) start();
  clock.advanceTo(horizon);
  model.close();
  return tokensInWindow / ((horizon - warmup) / 1000);
}

describe("service model: scaling", () => {
  const perReplicaConcurrency = 64;

  it("scales linearly 1 → 2 → 4 LLM replicas when the ingress scales with them (2 per replica)", () => {
    const throughput = [1, 2, 4].map((replicas) =>
      closedLoopThroughput(
        { replicas, ingress_replicas: 2 * replicas, engine: ENGINE, ingress: INGRESS },
        perReplicaConcurrency * replicas,
      ),
    );
    const [t1, t2, t4] = throughput as [number, number, number];
    // One replica alone: 64 sequences decode 64 tokens per 13.12 ms step (prefill aside).
    expect(t1).toBeGreaterThan(4000);
    expect(t2 / (2 * t1)).toBeGreaterThan(0.97);
    expect(t4 / (4 * t1)).toBeGreaterThan(0.97);
  });

  it("stops scaling when the ingress stays at 2 replicas: the forwarding capacity caps it", () => {
    const fixedIngress = [1, 2, 4].map((replicas) =>
      closedLoopThroughput(
        { replicas, ingress_replicas: 2, engine: ENGINE, ingress: INGRESS },
        perReplicaConcurrency * replicas,
        // A saturated ingress builds a backlog of whole streams first; measure after it settles.
        10_000,
        30_000,
      ),
    );
    const [t1, t2, t4] = fixedIngress as [number, number, number];
    // Each ingress replica forwards at most 1000 / 0.3 chunks/s, minus its per-request work
    // (3 ms per 100-token request): 2 replicas ≈ 2 × 100 / (100 × 0.3 + 3) ms ≈ 6060 tokens/s.
    const cap = (2 * 100 * 1000) / (100 * INGRESS.chunk_cost_ms + INGRESS.request_overhead_ms);
    expect(t4).toBeLessThan(cap * 1.01);
    expect(t4).toBeGreaterThan(cap * 0.95);
    expect(t4 / (4 * t1)).toBeLessThan(0.35);
    expect(t4 / t2).toBeLessThan(1.05); // the plateau
  });
});

describe("service model: routing and queues", () => {
  it("balances in-flight requests with power-of-two-choices", () => {
    const { clock, model } = service({ replicas: 4, ingress_replicas: 8, engine: ENGINE, ingress: INGRESS });
    for (let i = 0; i < 256; i++) {
      model.submit({ promptTokenIds: prompt(16), outputTokens: 10_000, stream: true }, listen().listener);
    }
    clock.advanceTo(100);
    const ongoing = model.stats().replicas.map((r) => r.ongoing);
    expect(ongoing.reduce((a, b) => a + b, 0)).toBe(256);
    expect(Math.max(...ongoing) - Math.min(...ongoing)).toBeLessThanOrEqual(2);
    model.close();
  });

  it("routes the same way for the same seed, differently for another", () => {
    const routes = (seed: number) => {
      const { clock, model } = service({ seed, replicas: 4, engine: ENGINE, ingress: INGRESS });
      const outcomes = Array.from({ length: 40 }, (_, i) => {
        const { outcome, listener } = listen();
        model.submit({ promptTokenIds: prompt(8 + i), outputTokens: 5 + (i % 7), stream: true }, listener);
        clock.advanceBy(2);
        return outcome;
      });
      clock.runUntilIdle();
      return outcomes.map((o) => o.routedTo);
    };
    expect(routes(7)).toEqual(routes(7));
    expect(routes(7)).not.toEqual(routes(8));
  });

  it("holds requests at the ingress beyond max_ongoing_requests and rejects past max_queued_requests", () => {
    const { clock, model } = service({
      replicas: 1,
      ingress_replicas: 1,
      engine: { ...ENGINE, max_ongoing_requests: 2, max_queued_requests: 1 },
      ingress: { request_overhead_ms: 0, chunk_cost_ms: 0 },
    });
    const outcomes = [0, 1, 2, 3].map(() => {
      const { outcome, listener } = listen();
      model.submit({ promptTokenIds: prompt(8), outputTokens: 5, stream: true }, listener);
      return outcome;
    });
    clock.advanceTo(1);
    expect(outcomes.map((o) => o.routedTo)).toEqual([0, 0, undefined, undefined]);
    expect(outcomes[3]!.rejected).toMatch(/backpressure/);
    expect(model.stats().ingress[0]).toMatchObject({ queued: 1, rejected: 1 });
    clock.runUntilIdle();
    expect(outcomes.map((o) => o.done)).toEqual([true, true, true, false]);
  });

  it("a cancelled request leaves the queue and the engine", () => {
    const { clock, model } = service({
      replicas: 1,
      ingress_replicas: 1,
      engine: { ...ENGINE, max_ongoing_requests: 1 },
      ingress: { request_overhead_ms: 0, chunk_cost_ms: 0 },
    });
    const running = model.submit(
      { promptTokenIds: prompt(8), outputTokens: 1000, stream: true },
      listen().listener,
    );
    const queued = listen();
    const queuedHandle = model.submit(
      { promptTokenIds: prompt(8), outputTokens: 5, stream: true },
      queued.listener,
    );
    const third = listen();
    model.submit({ promptTokenIds: prompt(8), outputTokens: 5, stream: true }, third.listener);
    clock.advanceTo(50);
    queuedHandle.cancel();
    running.cancel();
    expect(model.stats().replicas[0]).toMatchObject({ running: 0 });
    clock.runUntilIdle();
    expect(queued.outcome.chunks).toHaveLength(0);
    expect(third.outcome.done).toBe(true);
    expect(model.stats().replicas[0]).toMatchObject({ ongoing: 0, cancelled: 1 });
  });
});

describe("service model: streams", () => {
  it.each([
    [0, 1],
    [20, 3],
    [50, 7],
  ])(
    "stream batching every %i ms sends ceil(interval / step) = %i tokens per chunk",
    (interval, perChunk) => {
      const { clock, model } = service({
        engine: { ...ENGINE, stream_batching_interval_ms: interval },
        ingress: { request_overhead_ms: 0, chunk_cost_ms: 0 },
      });
      const { outcome, listener } = listen();
      model.submit({ promptTokenIds: prompt(8), outputTokens: 100, stream: true }, listener);
      clock.runUntilIdle();
      const step = ENGINE.decode_base_ms + ENGINE.decode_per_seq_ms; // 8.08 ms: 20 ms → 3 steps, 50 ms → 7
      expect(Math.ceil(interval / step) || 1).toBe(perChunk);
      const tokens = outcome.chunks.map((c) => c.tokens);
      expect(tokens[0]).toBe(1); // the first token is never held back
      expect(tokens.reduce((a, b) => a + b, 0)).toBe(100);
      expect(outcome.chunks).toHaveLength(1 + Math.ceil(99 / perChunk));
      expect(Math.max(...tokens)).toBe(perChunk);
    },
  );

  it("sends a non-streamed answer as one chunk at the end", () => {
    const { clock, model } = service({ engine: ENGINE, ingress: INGRESS });
    const { outcome, listener } = listen();
    model.submit({ promptTokenIds: prompt(8), outputTokens: 30, stream: false }, listener);
    clock.runUntilIdle();
    expect(outcome.chunks).toEqual([{ time: expect.any(Number), tokens: 30 }]);
  });

  it("adds the ingress's per-request overhead and per-chunk cost to the latency", () => {
    const run = (ingress: { request_overhead_ms: number; chunk_cost_ms: number }) => {
      const { clock, model } = service({ engine: ENGINE, ingress });
      const { outcome, listener } = listen();
      model.submit({ promptTokenIds: prompt(10), outputTokens: 3, stream: true }, listener);
      clock.runUntilIdle();
      return outcome.chunks.map((c) => c.time);
    };
    const bare = run({ request_overhead_ms: 0, chunk_cost_ms: 0 });
    const costly = run({ request_overhead_ms: 4, chunk_cost_ms: 0.5 });
    expect(bare[0]).toBeCloseTo(ENGINE.decode_base_ms + 10 * ENGINE.prefill_ms_per_token, 9);
    costly.forEach((t, i) => {
      expect(t - bare[i]!).toBeCloseTo(4 + 0.5, 9);
    });
  });

  it("holds a stalled request back from the engine", () => {
    const { clock, model } = service({
      engine: ENGINE,
      ingress: { request_overhead_ms: 0, chunk_cost_ms: 0 },
    });
    const { outcome, listener } = listen();
    model.submit({ promptTokenIds: prompt(10), outputTokens: 2, stream: true, stallMs: 500 }, listener);
    clock.runUntilIdle();
    expect(outcome.chunks[0]!.time).toBeCloseTo(
      500 + ENGINE.decode_base_ms + 10 * ENGINE.prefill_ms_per_token,
      9,
    );
  });
});

describe("network latency", () => {
  it("delays each request by the latency, jittered, without touching its token rate or the ingress", () => {
    const latency = 60;
    const { clock, model } = service({
      replicas: 1,
      ingress_replicas: 1,
      engine: ENGINE,
      ingress: { request_overhead_ms: 0, chunk_cost_ms: 0, network_latency_ms: latency, network_jitter: 0.5 },
    });
    const outcomes = Array.from({ length: 20 }, () => {
      const { outcome, listener } = listen();
      model.submit({ promptTokenIds: prompt(1), outputTokens: 5, stream: true }, listener);
      return outcome;
    });
    clock.runUntilIdle();
    const firsts = outcomes.map((o) => o.chunks[0]!.time);
    // Each request reaches the engine after its own latency in [30, 90] ms, then one step (8 ms + prefill).
    for (const first of firsts) {
      expect(first).toBeGreaterThanOrEqual(latency * 0.5);
      expect(first).toBeLessThanOrEqual(latency * 1.5 + 3 * (ENGINE.decode_base_ms + 1));
    }
    expect(new Set(firsts.map((t) => Math.round(t))).size).toBeGreaterThan(5);
    // Once decoding, a request's tokens come one step apart, as without latency.
    for (const outcome of outcomes) {
      const gaps = outcome.chunks.slice(1).map((c, i) => c.time - outcome.chunks[i]!.time);
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(ENGINE.decode_base_ms);
      expect(outcome.done).toBe(true);
    }
    expect(model.stats().ingress[0]!.busyMs).toBe(0);
  });

  it("without jitter, every request waits exactly the latency", () => {
    const { clock, model } = service({
      replicas: 1,
      engine: ENGINE,
      ingress: { request_overhead_ms: 0, chunk_cost_ms: 0, network_latency_ms: 25, network_jitter: 0 },
    });
    const { outcome, listener } = listen();
    model.submit({ promptTokenIds: prompt(10), outputTokens: 2, stream: true }, listener);
    clock.runUntilIdle();
    expect(outcome.chunks[0]!.time).toBeCloseTo(
      25 + ENGINE.decode_base_ms + 10 * ENGINE.prefill_ms_per_token,
      9,
    );
  });
});
