import { describe, expect, it } from "vitest";
import { type Clock, VirtualClock } from "../../../src/clock.js";
import { type EngineConfig, parseSimConfig } from "../../../src/sim/config.js";
import { Engine, type SequenceHandle } from "../../../src/sim/engine.js";

function engineConfig(overrides: Partial<EngineConfig> = {}): EngineConfig {
  return parseSimConfig({
    engine: {
      decode_base_ms: 10,
      decode_per_seq_ms: 0.1,
      prefill_ms_per_token: 0.01,
      max_num_seqs: 256,
      max_num_batched_tokens: 8192,
      ...overrides,
    },
  }).engine;
}

interface Trace {
  submitted: number;
  firstToken?: number;
  finished?: number;
  tokens: number[];
}

/** Submits one sequence and records when its tokens come out. */
function submit(
  engine: Engine,
  clock: Clock,
  prompt: number | number[],
  output: number,
  onFinish?: () => void,
): { trace: Trace; handle: SequenceHandle } {
  const trace: Trace = { submitted: clock.now(), tokens: [] };
  const ids = typeof prompt === "number" ? Array.from({ length: prompt }, (_, i) => i) : prompt;
  const handle = engine.submit({
    promptLength: ids.length,
    outputTokens: output,
    blockHashes: engine.blockHashes(ids),
    sink: {
      onToken(time, _generated, last) {
        trace.tokens.push(time);
        trace.firstToken ??= time;
        if (last) {
          trace.finished = time;
          onFinish?.();
        }
      },
    },
  });
  return { trace, handle };
}

describe("engine: closed-form schedule", () => {
  it.each([1, 4, 16, 64, 256])("a batch of %i sequences: TTFT and E2E follow the step formula", (c) => {
    const config = engineConfig();
    const clock = new VirtualClock();
    const engine = new Engine(config, clock);
    const prompt = 24;
    const output = 50;
    const traces = Array.from({ length: c }, () => submit(engine, clock, prompt, output).trace);
    clock.runUntilIdle();

    const ttft = config.decode_base_ms + config.prefill_ms_per_token * prompt * c;
    const step = config.decode_base_ms + config.decode_per_seq_ms * c;
    for (const trace of traces) {
      expect(trace.firstToken).toBeCloseTo(ttft, 9);
      expect(trace.finished).toBeCloseTo(ttft + (output - 1) * step, 9);
      expect(trace.tokens).toHaveLength(output);
    }
    const stats = engine.stats();
    expect(stats.tokensGenerated).toBe(c * output);
    expect(stats.busyMs).toBeCloseTo(ttft + (output - 1) * step, 6);
    expect(stats.running + stats.waiting + stats.kvTokensInUse).toBe(0);
  });

  it.each([1, 8, 32, 128])("closed loop at concurrency %i: throughput = C·N / cycle", (c) => {
    const config = engineConfig();
    const clock = new VirtualClock();
    const engine = new Engine(config, clock);
    const prompt = 32;
    const output = 40;
    let completed = 0;
    const loop = () => {
      submit(engine, clock, prompt, output, () => {
        completed += 1;
        loop();
      });
    };
    for (let i = 0; i < c; i++) loop();
    const horizon = 20_000;
    clock.advanceTo(horizon);
    engine.close();

    const cycle =
      config.decode_base_ms +
      config.prefill_ms_per_token * prompt * c +
      (output - 1) * (config.decode_base_ms + config.decode_per_seq_ms * c);
    const expectedCompleted = c * Math.floor(horizon / cycle);
    expect(completed).toBe(expectedCompleted);
    const throughput = (completed * output) / ((Math.floor(horizon / cycle) * cycle) / 1000);
    expect(throughput).toBeCloseTo((c * output) / (cycle / 1000), 6);
  });

  it("chunks a long prompt over steps of max_num_batched_tokens", () => {
    const config = engineConfig({ max_num_batched_tokens: 1000 });
    const clock = new VirtualClock();
    const engine = new Engine(config, clock);
    const { trace } = submit(engine, clock, 2500, 3);
    clock.runUntilIdle();
    // Three prefill steps (1000 + 1000 + 500 tokens), each paying the step's fixed cost.
    const ttft = 3 * config.decode_base_ms + 2500 * config.prefill_ms_per_token;
    expect(trace.firstToken).toBeCloseTo(ttft, 9);
    expect(trace.finished).toBeCloseTo(ttft + 2 * (config.decode_base_ms + config.decode_per_seq_ms), 9);
    expect(engine.stats().steps).toBe(5);
  });

  it("shares a step's token budget: decodes first, then prefill chunks", () => {
    const config = engineConfig({ max_num_batched_tokens: 600 });
    const clock = new VirtualClock();
    const engine = new Engine(config, clock);
    const first = submit(engine, clock, 100, 10).trace;
    clock.advanceTo(1); // the first sequence is prefilling; the second arrives during that step
    const second = submit(engine, clock, 1000, 2).trace;
    clock.runUntilIdle();
    const step1 = config.decode_base_ms + 100 * config.prefill_ms_per_token;
    expect(first.firstToken).toBeCloseTo(step1, 9);
    // Step 2: one decode + 599 prompt tokens; step 3: one decode + the other 401.
    const step2 = config.decode_base_ms + config.decode_per_seq_ms + 599 * config.prefill_ms_per_token;
    const step3 = config.decode_base_ms + config.decode_per_seq_ms + 401 * config.prefill_ms_per_token;
    expect(first.tokens[1]).toBeCloseTo(step1 + step2, 9);
    expect(second.firstToken).toBeCloseTo(step1 + step2 + step3, 9);
  });

  it("queues sequences beyond max_num_seqs until a slot frees", () => {
    const config = engineConfig({ max_num_seqs: 2 });
    const clock = new VirtualClock();
    const engine = new Engine(config, clock);
    const traces = [0, 1, 2].map(() => submit(engine, clock, 10, 5).trace);
    clock.runUntilIdle();
    const ttft = config.decode_base_ms + 20 * config.prefill_ms_per_token;
    const end = ttft + 4 * (config.decode_base_ms + 2 * config.decode_per_seq_ms);
    expect(traces[0]!.finished).toBeCloseTo(end, 9);
    expect(traces[2]!.firstToken).toBeCloseTo(
      end + config.decode_base_ms + 10 * config.prefill_ms_per_token,
      9,
    );
    expect(engine.stats().maxRunning).toBe(2);
  });

  it("admits no more than the KV budget holds (prompt + max_tokens reserved)", () => {
    const config = engineConfig({ kv_cache_tokens: 1000, max_model_len: 1000 });
    const clock = new VirtualClock();
    const engine = new Engine(config, clock);
    const traces = [0, 1, 2, 3].map(() => submit(engine, clock, 200, 100).trace); // 300 each: 3 fit
    clock.advanceTo(1);
    expect(engine.stats()).toMatchObject({ running: 3, waiting: 1, kvTokensInUse: 900 });
    clock.runUntilIdle();
    expect(traces[3]!.firstToken).toBeGreaterThanOrEqual(traces[0]!.finished!);
  });

  it("frees the slot of a cancelled sequence at once", () => {
    const config = engineConfig({ max_num_seqs: 1 });
    const clock = new VirtualClock();
    const engine = new Engine(config, clock);
    const long = submit(engine, clock, 10, 1000);
    const waiting = submit(engine, clock, 10, 3);
    clock.advanceTo(100);
    expect(engine.stats()).toMatchObject({ running: 1, waiting: 1 });
    long.handle.cancel();
    expect(engine.stats()).toMatchObject({ running: 0, waiting: 1 });
    clock.runUntilIdle();
    expect(waiting.trace.finished).toBeDefined();
    expect(long.trace.finished).toBeUndefined();
    expect(engine.stats()).toMatchObject({ cancelled: 1, finished: 1, kvTokensInUse: 0 });
  });

  it("keeps the schedule on absolute times when timers fire late", () => {
    const config = engineConfig();
    const virtual = new VirtualClock();
    let jitter = 0;
    // A clock whose timers fire up to 3 ms late, as a busy event loop would.
    const late: Clock = {
      now: () => virtual.now(),
      toEpochMs: (t) => virtual.toEpochMs(t),
      sleep: (ms, signal) => virtual.sleep(ms, signal),
      at: (time, fn) => {
        jitter = (jitter + 1.7) % 3;
        return virtual.at(time + jitter, fn);
      },
    };
    const engine = new Engine(config, late);
    const c = 16;
    const traces = Array.from({ length: c }, () => submit(engine, late, 8, 400).trace);
    virtual.runUntilIdle();
    const step = config.decode_base_ms + config.decode_per_seq_ms * c;
    const ttft = config.decode_base_ms + 8 * c * config.prefill_ms_per_token;
    // Token times are the planned step ends, so the rate is exact although every wake-up was late.
    expect(traces[0]!.finished).toBeCloseTo(ttft + 399 * step, 6);
  });

  it("re-anchors to now after a stall longer than max_schedule_lag_ms", () => {
    const config = engineConfig();
    const virtual = new VirtualClock();
    let stalled = false;
    const clock: Clock = {
      now: () => virtual.now(),
      toEpochMs: (t) => t,
      sleep: (ms, signal) => virtual.sleep(ms, signal),
      at: (time, fn) => {
        const delay = !stalled && time > 50 ? 1000 : 0;
        if (delay) stalled = true;
        return virtual.at(time + delay, fn);
      },
    };
    const engine = new Engine(config, clock, 250);
    const { trace } = submit(engine, clock, 8, 20);
    virtual.runUntilIdle();
    // After the stall the schedule restarts from the late wake-up instead of replaying the missed
    // steps in a burst: the remaining tokens are spaced one step apart from then on.
    const wake = trace.tokens.findIndex((t) => t > 1000);
    expect(wake).toBeGreaterThan(0);
    const step = config.decode_base_ms + config.decode_per_seq_ms;
    const afterStall = trace.tokens.slice(wake);
    afterStall.slice(1).forEach((t, i) => {
      expect(t - afterStall[i]!).toBeCloseTo(step, 9);
    });
    expect(trace.tokens).toHaveLength(20);
  });
});

describe("engine: prefix caching", () => {
  it("skips the cached blocks of a repeated prompt", () => {
    const config = engineConfig({ enable_prefix_caching: true });
    const clock = new VirtualClock();
    const engine = new Engine(config, clock);
    const prompt = Array.from({ length: 1024 }, (_, i) => (i * 7919) % 50_000);
    const cold = submit(engine, clock, prompt, 2).trace;
    clock.runUntilIdle();
    const start = clock.now();
    const warm = submit(engine, clock, prompt, 2).trace;
    clock.runUntilIdle();
    // All but the last block hit (the last prompt token is always recomputed): 1008 cached.
    expect(cold.firstToken! - cold.submitted).toBeCloseTo(
      config.decode_base_ms + 1024 * config.prefill_ms_per_token,
      9,
    );
    expect(warm.firstToken! - start).toBeCloseTo(config.decode_base_ms + 16 * config.prefill_ms_per_token, 9);
    expect(engine.prefixCacheStats()).toMatchObject({ hitTokens: 1008 });
  });

  it("matches only a shared prefix, block by block", () => {
    const config = engineConfig({ enable_prefix_caching: true });
    const clock = new VirtualClock();
    const engine = new Engine(config, clock);
    const base = Array.from({ length: 320 }, (_, i) => i + 1);
    submit(engine, clock, base, 1);
    clock.runUntilIdle();
    const divergent = [...base.slice(0, 100), ...base.slice(100).map((t) => t + 1000)];
    const handle = submit(engine, clock, divergent, 1).handle;
    clock.runUntilIdle();
    expect(handle.cachedTokens).toBe(96); // six whole 16-token blocks before the change at 100
  });

  it("does nothing when switched off", () => {
    const clock = new VirtualClock();
    const engine = new Engine(engineConfig({ enable_prefix_caching: false }), clock);
    const prompt = Array.from({ length: 256 }, (_, i) => i);
    submit(engine, clock, prompt, 1);
    clock.runUntilIdle();
    const again = submit(engine, clock, prompt, 1).handle;
    clock.runUntilIdle();
    expect(again.cachedTokens).toBe(0);
    expect(engine.blockHashes(prompt)).toBeUndefined();
  });
});
