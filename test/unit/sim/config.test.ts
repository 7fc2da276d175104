import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/errors.js";
import { mergeSimConfigInputs, parseSimConfig, simConfigFromEnv } from "../../../src/sim/config.js";
import { FaultPlanner } from "../../../src/sim/faults.js";
import { RequestLog } from "../../../src/sim/stats.js";
import {
  naturalStopLength,
  promptFingerprint,
  tokenizeChat,
  tokenizeText,
  tokenText,
} from "../../../src/sim/tokens.js";

describe("simulator settings", () => {
  it("fills every default, with the ingress at 2 × LLM replicas", () => {
    const config = parseSimConfig({ replicas: 3 });
    expect(config).toMatchObject({
      model: "sim-llm",
      replicas: 3,
      ingress_replicas: 6,
      host: "127.0.0.1",
      engine: {
        max_num_seqs: 256,
        stream_batching_interval_ms: 50,
        enable_prefix_caching: false,
        max_queued_requests: -1,
      },
      ingress: { request_overhead_ms: 3, chunk_cost_ms: 0.3 },
      faults: { error_rate: 0, never_healthy: false },
    });
    expect(parseSimConfig(config)).toEqual(config); // parsing is idempotent
  });

  it("lists every problem with its dotted path, unknown keys included", () => {
    let error: unknown;
    try {
      parseSimConfig(
        { replicas: 0, engine: { max_num_seqs: "x", typo: 1 }, faults: { error_rate: 2 } },
        "test.json",
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    const { message, details } = error as UserError;
    expect(message).toBe("invalid simulator settings (test.json)");
    expect(details.join("\n")).toMatch(/• replicas: /);
    expect(details.join("\n")).toMatch(/• engine\.max_num_seqs: /);
    expect(details.join("\n")).toMatch(/• engine: Unrecognized key: "typo"/);
    expect(details.join("\n")).toMatch(/• faults\.error_rate: /);
  });

  it("refuses settings vLLM would refuse", () => {
    expect(() => parseSimConfig({ engine: { max_num_seqs: 512, max_num_batched_tokens: 256 } })).toThrow(
      /inconsistent/,
    );
    expect(() => parseSimConfig({ engine: { kv_cache_tokens: 1000, max_model_len: 2000 } })).toThrow(
      /inconsistent/,
    );
  });

  it("merges layers key by key, later ones winning, undefined never overriding", () => {
    const merged = mergeSimConfigInputs(
      { replicas: 2, engine: { max_num_seqs: 8, decode_base_ms: 5 } },
      undefined,
      { engine: { max_num_seqs: 16, decode_per_seq_ms: undefined }, seed: 3 },
    );
    expect(merged).toEqual({ replicas: 2, seed: 3, engine: { max_num_seqs: 16, decode_base_ms: 5 } });
  });

  it("reads ORCHESTRATE_SIM_CONFIG, and says what is wrong with it", () => {
    expect(simConfigFromEnv({ ORCHESTRATE_SIM_CONFIG: '{"faults":{"cut_rate":0.5}}' })).toEqual({
      faults: { cut_rate: 0.5 },
    });
    expect(simConfigFromEnv({})).toBeUndefined();
    expect(() => simConfigFromEnv({ ORCHESTRATE_SIM_CONFIG: "[1]" })).toThrow(/not a JSON object/);
  });
});

describe("tokens", () => {
  it("counts text by words cut into 4-character pieces", () => {
    expect(tokenizeText("a bb cccc ddddd")).toHaveLength(5);
    expect(tokenizeText("  spaced   out  ")).toHaveLength(3); // "spac" "ed" "out"
    expect(tokenizeText("same words")).toEqual(tokenizeText("same words"));
  });

  it("counts chat messages with their template tokens", () => {
    expect(tokenizeChat([{ role: "user", content: "hi" }])).toHaveLength(3 + 1 + 3);
    expect(
      tokenizeChat([
        { role: "system", content: "" },
        { role: "user", content: "hello" },
      ]),
    ).toHaveLength(3 + 3 + 2 + 3);
  });

  it("generates the same text for the same prompt and seed", () => {
    const fp = promptFingerprint(1, [1, 2, 3]);
    expect(tokenText(fp, 0)).toBe(tokenText(promptFingerprint(1, [1, 2, 3]), 0));
    const a = Array.from({ length: 20 }, (_, i) => tokenText(fp, i)).join("");
    const b = Array.from({ length: 20 }, (_, i) => tokenText(promptFingerprint(2, [1, 2, 3]), i)).join("");
    expect(a).not.toBe(b);
    expect(a).toMatch(/^( [a-z]+){20}$/);
  });

  it("stops at a pseudo-EOS with about the configured mean length", () => {
    const lengths = Array.from({ length: 4000 }, (_, i) => naturalStopLength(promptFingerprint(0, [i]), 100));
    const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length;
    expect(mean).toBeGreaterThan(90);
    expect(mean).toBeLessThan(110);
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(1);
  });
});

describe("fault planner", () => {
  it("is deterministic per seed and hits about the configured fractions", () => {
    const plans = (seed: number) => {
      const planner = new FaultPlanner(
        {
          error_rate: 0.2,
          error_mode: "in_stream",
          cut_rate: 0.1,
          stall_first_token_ms: 50,
          stall_rate: 0.5,
          startup_delay_ms: 0,
          never_healthy: false,
        },
        seed,
      );
      return Array.from({ length: 2000 }, () => planner.plan(100));
    };
    const first = plans(1);
    expect(plans(1)).toEqual(first);
    expect(plans(2)).not.toEqual(first);
    const share = (f: (p: (typeof first)[number]) => boolean) => first.filter(f).length / first.length;
    expect(share((p) => p.streamErrorAfterTokens !== undefined)).toBeCloseTo(0.2, 1);
    expect(share((p) => p.cutAfterTokens !== undefined)).toBeCloseTo(0.08, 1); // 10% of the 80% not failing
    expect(share((p) => p.stallMs === 50)).toBeCloseTo(0.5, 1);
    for (const plan of first) {
      if (plan.cutAfterTokens !== undefined) expect(plan.cutAfterTokens).toBeGreaterThanOrEqual(1);
      if (plan.cutAfterTokens !== undefined) expect(plan.cutAfterTokens).toBeLessThan(100);
    }
  });
});

describe("request log", () => {
  const record = (seq: number) => ({
    seq,
    id: `r${seq}`,
    endpoint: "completions" as const,
    stream: true,
    status: "ok" as const,
    http_status: 200,
    ingress: 0,
    replica: 0,
    arrival_ms: seq,
    routed_ms: seq,
    first_token_ms: seq,
    finish_ms: seq,
    prompt_tokens: 1,
    cached_tokens: 0,
    completion_tokens: 2,
    chunks: 2,
    finish_reason: "length" as const,
  });

  it("pages by finish order and reports what the ring dropped", () => {
    const log = new RequestLog(3);
    for (let i = 1; i <= 5; i++) log.add(record(i));
    expect(log.since(0).records.map((r) => r.index)).toEqual([3, 4, 5]);
    expect(log.since(0).dropped).toBe(2);
    expect(log.since(3)).toEqual({
      records: [expect.objectContaining({ index: 4 }), expect.objectContaining({ index: 5 })],
      dropped: 0,
    });
    expect(log.since(5).records).toEqual([]);
    expect(log.since(1, 1).records.map((r) => r.index)).toEqual([3]);
    expect(log.tokensDelivered).toBe(10);
    expect(log.counts().ok).toBe(5);
  });
});
