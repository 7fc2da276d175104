import { describe, expect, it } from "vitest";
import { aggregateRecords } from "../../../src/bench/aggregate.js";
import { allPartsResultJson, type LevelContext, partResultJson } from "../../../src/bench/formats.js";
import { RecordCursor, type RecordsFile, recordToJson } from "../../../src/bench/records-file.js";
import { MicrosHistogram, Samples } from "../../../src/bench/stats.js";
import { fixedShape } from "../../../src/bench/workload.js";
import { Random } from "../../../src/random.js";
import { recordsFile, type TestRequest } from "../../helpers/records.js";

const OPTIONS = { requested: fixedShape(100, 10) };

const context = (target = 1): LevelContext => ({
  key: "conc1",
  mode: "concurrency",
  target,
  modelId: "m",
  inputTokens: 100,
  outputTokens: 10,
  lengthSeed: 1,
  endpoint: "completions",
  burstiness: 1,
  startedAtEpochMs: 0,
  toolVersion: "test",
});

const okClient = (part: number) => ({
  part,
  seed: 1,
  health: {
    wall_s: 10,
    event_loop_samples: 2000,
    event_loop_lag_p99_ms: 1,
    event_loop_lag_max_ms: 2,
    event_loop_lag_mean_ms: 0.5,
    cpu_percent: 10,
  },
  verdict: { verdict: "ok" as const, reasons: [] },
});

describe("per-request metrics, by hand", () => {
  it("computes TTFT, TPOT, ITL, E2EL, tokens per chunk and the per-token ITL of one request", async () => {
    // Sent at 0; chunks at 80, 100, 120, 140, 160 ms carrying 2 tokens each: 10 tokens.
    const file = await recordsFile([{ sent: 0, chunks: [80, 100, 120, 140, 160], tokens: [2, 2, 2, 2, 2] }]);
    const a = aggregateRecords([file], OPTIONS);
    expect(a.latency.ttft?.median).toBe(80);
    expect(a.latency.e2el?.median).toBe(160);
    expect(a.latency.tpot?.median).toBeCloseTo((160 - 80) / (10 - 1), 9);
    expect(a.latency.itl).toMatchObject({ mean: 20, median: 20, p99: 20, std: 0 });
    expect(a.itlPerToken).toMatchObject({ mean: 10, median: 10 });
    expect(a.tokensPerChunk).toMatchObject({ mean: 2, max: 2 });
    expect(a).toMatchObject({ completed: 1, failed: 0, totalOutputTokens: 10, totalInputTokens: 100 });
  });

  it("weights the per-token ITL by the tokens of each chunk when chunks carry different counts", async () => {
    // Chunks at 10 (1 token), 30 (1 token), 60 (3 tokens): gaps 20 (1 token) and 30 (3 tokens).
    // Per chunk: ITL [20, 30]. Per token: [20, 10, 10, 10], mean 12.5, median 10.
    const file = await recordsFile([{ sent: 0, chunks: [10, 30, 60], tokens: [1, 1, 3] }]);
    const a = aggregateRecords([file], { requested: fixedShape(100, 5) });
    expect(a.latency.itl).toMatchObject({ mean: 25, median: 25 });
    expect(a.itlPerToken).toMatchObject({ mean: 12.5, median: 10 });
    expect(a.tokensPerChunk).toMatchObject({ mean: 5 / 3, max: 3, count: 3 });
  });

  it("leaves failures out of latencies but keeps them in the counts, by kind", async () => {
    const file = await recordsFile([
      { sent: 0, chunks: [50, 60, 70, 80, 90, 100, 110, 120, 130, 140] },
      { sent: 0, chunks: [], error: "http_5xx", end: 5 },
      { sent: 0, chunks: [900, 910], error: "stream_broken" },
      { sent: 0, chunks: [], error: "timeout_before_first_token", end: 1000 },
    ]);
    const a = aggregateRecords([file], OPTIONS);
    expect(a).toMatchObject({ issued: 4, completed: 1, failed: 3 });
    expect(a.errorsByKind).toEqual({ http_5xx: 1, stream_broken: 1, timeout_before_first_token: 1 });
    expect(a.latency.ttft).toMatchObject({ mean: 50, p99: 50 });
  });

  it("excludes warmup requests from everything but the in-flight count", async () => {
    const file = await recordsFile([
      { sent: 0, chunks: [1000], warmup: true },
      { sent: 10, chunks: [30, 40, 50, 60, 70, 80, 90, 100, 110, 120] },
    ]);
    const a = aggregateRecords([file], OPTIONS);
    expect(a).toMatchObject({ warmupRequests: 1, issued: 1, completed: 1, numPrompts: 1 });
    expect(a.latency.ttft?.mean).toBe(20);
  });

  it("counts goodput against every SLO", async () => {
    const req = (ttft: number): TestRequest => ({
      sent: 0,
      chunks: Array.from({ length: 10 }, (_, i) => ttft + i * 10),
    });
    const file = await recordsFile([req(50), req(150), req(90)]);
    const a = aggregateRecords([file], { ...OPTIONS, slo: { ttftMs: 100, tpotMs: 11 } });
    expect(a.goodRequests).toBe(2);
    expect(a.goodOutputTokens).toBe(20);
  });
});

describe("pooled percentiles", () => {
  it("differ from averaged per-part percentiles, and are the ones reported", async () => {
    // Part 1: 100 requests with TTFT 100 ms. Part 2: 90 at 100 ms and 10 at 1000 ms.
    const requests = (slow: number): TestRequest[] =>
      Array.from({ length: 100 }, (_, i) => {
        const ttft = i < 100 - slow ? 100 : 1000;
        return { sent: i * 2000, chunks: Array.from({ length: 10 }, (_, j) => i * 2000 + ttft + j) };
      });
    const p1 = await recordsFile(requests(0), { part: 1 });
    const p2 = await recordsFile(requests(10), { part: 2 });
    const part1 = aggregateRecords([p1], OPTIONS);
    const part2 = aggregateRecords([p2], OPTIONS);
    expect(part1.latency.ttft?.p99).toBe(100);
    expect(part2.latency.ttft?.p99).toBe(1000);
    const pooled = aggregateRecords([p1, p2], OPTIONS);
    // 200 values, 190 × 100 ms and 10 × 1000 ms: rank 0.99 × 199 = 197.01 lies among the 1000s.
    expect(pooled.latency.ttft?.p99).toBe(1000);
    // The seed's arithmetic would have said (100 + 1000) / 2 = 550; the all-parts file shows both.
    const json = allPartsResultJson(pooled, context(), [
      { part: 1, json: partResultJson(part1, context(), okClient(1)) },
      { part: 2, json: partResultJson(part2, context(), okClient(2)) },
    ]);
    expect(json.p99_ttft_ms).toBe(1000);
    expect((json.seed_view as Record<string, unknown>).p99_ttft_ms).toBe(550);
    expect((json.seed_view_diff as Record<string, { difference: number }>).p99_ttft_ms?.difference).toBe(450);
  });

  it("from exact histograms equal the percentiles of the sorted samples", () => {
    const rng = new Random(7);
    const histogram = new MicrosHistogram();
    const samples = new Samples();
    for (let i = 0; i < 20_000; i++) {
      const us = Math.floor(rng.exponential(15_000)) + (i % 97 === 0 ? 2_000_000 : 0);
      histogram.add(us);
      samples.add(us / 1000);
    }
    const h = histogram.statsMs()!;
    const s = samples.stats()!;
    for (const key of ["median", "p90", "p95", "p99", "p99_9"] as const)
      expect(h[key]).toBeCloseTo(s[key]!, 9);
    expect(h.mean).toBeCloseTo(s.mean, 9);
    expect(h.std).toBeCloseTo(s.std, 6);
  });
});

describe("window throughput", () => {
  /**
   * Two clients of a server that does 150 tok/s for a client alone and 100 tok/s each for two.
   * Part 1 runs from 0 to 10 s, part 2 (started late) from 5 to 15 s: each sees 750 + 500 tokens
   * in 10 s, 125 tok/s, and the seed's sum says 250 tok/s, more than the server ever did. Inside
   * the window where both were running, the server did 200 tok/s.
   */
  async function driftedPart(part: number, start: number, sharedFrom: number, sharedUntil: number) {
    const requests: TestRequest[] = [];
    let t = start;
    while (t < start + 10_000 - 1e-9) {
      const sent = t;
      const chunks: number[] = [];
      for (let k = 0; k < 10; k++) {
        t += t >= sharedFrom && t < sharedUntil ? 10 : 1000 / 150;
        chunks.push(t);
      }
      requests.push({ sent, chunks });
    }
    return recordsFile(requests, { part });
  }

  it("is what the server sustained while all parts ran, where the seed's sum over-counts", async () => {
    const p1 = await driftedPart(1, 0, 5000, 10_000);
    const p2 = await driftedPart(2, 5000, 5000, 10_000);
    const one = aggregateRecords([p1], OPTIONS);
    const two = aggregateRecords([p2], OPTIONS);
    const both = aggregateRecords([p1, p2], OPTIONS);
    const json = allPartsResultJson(both, context(), [
      { part: 1, json: partResultJson(one, context(), okClient(1)) },
      { part: 2, json: partResultJson(two, context(), okClient(2)) },
    ]);
    expect(both.window.startUs).toBe(5_000_000);
    expect(both.window.seconds).toBeGreaterThan(4.8);
    expect(json.output_throughput as number).toBeCloseTo(200, -1);
    const seed = json.seed_view as Record<string, number>;
    expect(seed.output_throughput).toBeCloseTo(250, -1);
    expect(
      ((json.seed_view_diff as Record<string, { relative: number }>).output_throughput?.relative ?? 0) * 100,
    ).toBeCloseTo(-20, 0);
  });

  it("falls back to the whole span, with a warning, when the parts never overlapped", async () => {
    const p1 = await driftedPart(1, 0, 0, 0);
    const p2 = await driftedPart(2, 20_000, 0, 0);
    const both = aggregateRecords([p1, p2], OPTIONS);
    expect(both.window.disjoint).toBe(true);
    const json = allPartsResultJson(both, context(), []);
    expect((json.warnings as Array<{ kind: string }>).map((w) => w.kind)).toContain("windows_disjoint");
  });
});

describe("records files", () => {
  it("round-trip every field and print as the JSON lines of metrics.md", async () => {
    const file = await recordsFile([
      {
        sent: 1.5,
        dispatched: 1.25,
        chunks: [10.25, 20.5, 20.5],
        tokens: [1, 3, 1],
        prompt: 99,
        completion: 5,
        exact: false,
        scheduled: 1,
      },
      { sent: 2, chunks: [], error: "http_429", end: 3 },
    ]);
    const cursor = new RecordCursor(file);
    expect(cursor.next()).toBe(true);
    expect(recordToJson(cursor, file.footer)).toMatchObject({
      part: 1,
      index: 0,
      scheduled_at: 1,
      dispatched_at: 1.25,
      sent_at: 1.5,
      first_token_at: 10.25,
      last_token_at: 20.5,
      chunk_times: [10.25, 20.5, 20.5],
      chunk_tokens: [1, 3, 1],
      chunk_tokens_exact: false,
      prompt_tokens: 99,
      completion_tokens: 5,
      error_kind: null,
      status: 200,
    });
    expect(cursor.next()).toBe(true);
    expect(recordToJson(cursor, file.footer)).toMatchObject({
      error_kind: "http_429",
      sent_at: 2,
      end_at: 3,
      status: 200,
    });
    expect(cursor.next()).toBe(false);
  });
});

describe("the window's attribution rule, by hand", () => {
  // Window 0–1000 ms, slices of 100 ms. Each request's output is spread evenly over its time in
  // flight (sent → end) and counted for the part of it inside the window:
  //   A: sent 0, ends 500, 5 tokens: 1 token per 100 ms in slices 0–4, whole inside;
  //   B: sent 250, ends 1250, 10 tokens: 1 per 100 ms from 250 ms, 75% inside (7.5 tokens);
  //   C: sent 950, ends 1000, 2 tokens: both in slice 9.
  const requests: TestRequest[] = [
    { sent: 0, chunks: [100, 200, 300, 400, 500] },
    { sent: 250, chunks: Array.from({ length: 10 }, (_, k) => 350 + 100 * k) },
    { sent: 950, chunks: [975, 1000] },
  ];
  const footer = { steady_from_us: 0, steady_until_us: 1_000_000 };

  it("counts requests and tokens by the share of each request's time in flight inside the window", async () => {
    const a = aggregateRecords([await recordsFile(requests, footer)], OPTIONS);
    expect(a.inWindow.outputTokens).toBeCloseTo(5 + 7.5 + 2, 9);
    expect(a.inWindow.requests).toBeCloseTo(1 + 0.75 + 1, 9);
    expect(a.inWindow.inputTokens).toBeCloseTo(100 * 2.75, 9);
    // As rates: a token per 100 ms slice is 10 tokens/s.
    const expected = [10, 10, 15, 20, 20, 10, 10, 10, 10, 30];
    for (const [i, rate] of a.sliceOutputRates.entries()) expect(rate).toBeCloseTo(expected[i]!, 9);
  });

  it("counts goodput by the same shares: all of it when every request is good, none when none is", async () => {
    const file = await recordsFile(requests, footer);
    const good = aggregateRecords([file], { ...OPTIONS, slo: { e2elMs: 10_000 } });
    expect(good.inWindow.goodRequests).toBeCloseTo(good.inWindow.requests, 12);
    expect(good.inWindow.goodOutputTokens).toBeCloseTo(good.inWindow.outputTokens, 12);
    const none = aggregateRecords([file], { ...OPTIONS, slo: { ttftMs: 1 } });
    expect(none.inWindow).toMatchObject({ goodRequests: 0, goodOutputTokens: 0 });
    // Only C (TTFT 25 ms) meets a TTFT limit of 50 ms: its 2 tokens and 1 request.
    const some = aggregateRecords([file], { ...OPTIONS, slo: { ttftMs: 50 } });
    expect(some.inWindow).toMatchObject({ goodRequests: 1, goodOutputTokens: 2 });
  });
});

describe("the merge's invariants, over random levels", () => {
  /**
   * Random closed-loop-like parts: each of `slots` slots sends requests back to back with random
   * durations, first tokens and chunk batching, over a part's own random steady state. Whatever the
   * shapes, the rule must keep: tokens per request = the output length, goodput = throughput when
   * every request is good (none good is pinned by hand above), the parts' shares add up to the
   * level, and so do the steadiness slices.
   */
  async function randomPart(rng: Random, part: number, outputLen: number): Promise<RecordsFile> {
    const requests: TestRequest[] = [];
    const slots = 1 + rng.int(6);
    const start = rng.next() * 200;
    for (let slot = 0; slot < slots; slot++) {
      let t = start + rng.next() * 50;
      const count = 1 + rng.int(12);
      for (let i = 0; i < count; i++) {
        const ttft = 5 + rng.next() * 300;
        const gap = 1 + rng.next() * 20;
        const chunks: number[] = [];
        const tokens: number[] = [];
        let left = outputLen;
        while (left > 0) {
          const k = Math.min(left, 1 + rng.int(4));
          chunks.push(t + ttft + gap * chunks.length);
          tokens.push(k);
          left -= k;
        }
        requests.push({ sent: t, chunks, tokens });
        t = chunks.at(-1)! + rng.next() * 2;
      }
    }
    const sends = requests.map((r) => r.sent);
    const from = Math.min(...sends) + rng.next() * 300;
    const until = from + 200 + rng.next() * 2000;
    return recordsFile(requests, { part, steady_from_us: from * 1000, steady_until_us: until * 1000 });
  }

  it("holds for 60 random levels of 1 to 4 parts", async () => {
    const rng = new Random(16);
    for (let trial = 0; trial < 60; trial++) {
      const outputLen = 1 + rng.int(300);
      const parts = 1 + rng.int(4);
      const files = await Promise.all(
        Array.from({ length: parts }, (_, i) => randomPart(rng, i + 1, outputLen)),
      );
      const options = { requested: fixedShape(100, outputLen) };
      const all = aggregateRecords(files, { ...options, slo: { e2elMs: 1e9 } });
      const w = all.inWindow;
      if (w.requests > 0) expect(w.outputTokens / w.requests).toBeCloseTo(outputLen, 9);
      expect(w.goodRequests).toBeCloseTo(w.requests, 9);
      expect(w.goodOutputTokens).toBeCloseTo(w.outputTokens, 9);
      const shares = Object.values(all.inWindowByPart);
      expect(shares).toHaveLength(parts);
      expect(shares.reduce((sum, p) => sum + p.outputTokens, 0)).toBeCloseTo(w.outputTokens, 6);
      expect(shares.reduce((sum, p) => sum + p.requests, 0)).toBeCloseTo(w.requests, 9);
      const slices = all.sliceOutputRates.reduce((sum, r) => sum + r, 0) * (all.window.seconds / 10);
      if (!all.window.disjoint) expect(slices).toBeCloseTo(w.outputTokens, 6);
    }
  });
});
