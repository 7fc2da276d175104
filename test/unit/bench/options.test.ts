import { Command, CommanderError, InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { type BenchFlags, benchOptionsFromFlags } from "../../../src/bench/bench-command.js";
import { clientVerdict } from "../../../src/bench/client-health.js";
import { requestsPerLevel, resolveOptions, warmupPerLevel } from "../../../src/bench/options.js";
import { fixedShape, Workload } from "../../../src/bench/workload.js";
import { register } from "../../../src/commands/bench.js";
import {
  burstinessOption,
  concurrencyListOption,
  goodputOption,
  rateListOption,
} from "../../../src/commands/bench-options.js";
import { UserError } from "../../../src/errors.js";
import { consoleReporter } from "../../../src/reporter.js";

/** `orchestrate bench exp ARGS` as the CLI reads it, up to the options the benchmark gets. */
function parseBench(...args: string[]) {
  let flags: BenchFlags | undefined;
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
  register(program, consoleReporter());
  const bench = program.commands[0] as Command;
  bench.exitOverride().action((_exp: string, parsed: BenchFlags) => {
    flags = parsed;
  });
  program.parse(["bench", "exp", ...args], { from: "user" });
  return benchOptionsFromFlags("exp", flags as BenchFlags, {});
}

const base = {
  baseUrl: "http://127.0.0.1:8000",
  clients: 2,
  mode: "concurrency" as const,
  levels: [4, 8],
  inputTokens: 5000,
  outputTokens: 250,
  expDir: "/tmp/x",
};

describe("benchmark options", () => {
  it("apply the seed's defaults", () => {
    const plan = resolveOptions(base);
    expect(plan).toMatchObject({
      warmup: "one-wave",
      repeats: 1,
      burstiness: 1,
      endpoint: "completions",
      overwrite: "refuse",
    });
    expect(requestsPerLevel(plan, 16)).toBe(160);
    expect(
      requestsPerLevel({ mode: "request-rate", numPrompts: undefined, promptsPerConcurrency: 10 }, 2),
    ).toBe(500);
    expect(requestsPerLevel({ mode: "concurrency", numPrompts: 7, promptsPerConcurrency: 10 }, 16)).toBe(7);
  });

  it("warm up one wave per client by default (none at a rate), a fixed count when told, 0 = off", () => {
    expect(warmupPerLevel(resolveOptions(base), 16)).toBe(16);
    expect(warmupPerLevel(resolveOptions({ ...base, mode: "request-rate", levels: [2] }), 2)).toBe(0);
    expect(warmupPerLevel(resolveOptions({ ...base, warmup: 0 }), 16)).toBe(0);
    expect(warmupPerLevel(resolveOptions({ ...base, warmup: 5 }), 16)).toBe(5);
  });

  it("read --repeats and --warmup from the command line", () => {
    expect(parseBench("-c", "4", "--repeats", "3")).toMatchObject({ repeats: 3 });
    expect(parseBench("-c", "4").warmup).toBeUndefined();
    expect(parseBench("-c", "4", "--warmup", "0").warmup).toBe(0);
    expect(() => parseBench("--repeats", "0")).toThrow(/--repeats <n>' argument '0' is invalid/);
    expect(() => resolveOptions({ ...base, repeats: 1.5 })).toThrow(UserError);
  });

  it("read repeats until sure: --target-ci with --repeats as the most and --repeats-min (default 3)", () => {
    expect(parseBench("-c", "4", "--repeats", "10", "--target-ci", "0.03")).toMatchObject({
      repeats: 10,
      repeatsTarget: { min: 3, targetCi: 0.03 },
    });
    expect(
      parseBench("-c", "4", "--repeats", "6", "--target-ci", "0.05", "--repeats-min", "4").repeatsTarget,
    ).toEqual({ min: 4, targetCi: 0.05 });
    expect(() => parseBench("-c", "4", "--repeats-min", "4")).toThrow(
      "--repeats-min: only means something with --target-ci",
    );
    expect(() => resolveOptions({ ...base, repeats: 2, repeatsTarget: { min: 3, targetCi: 0.03 } })).toThrow(
      UserError,
    );
    expect(() => resolveOptions({ ...base, repeats: 5, repeatsTarget: { min: 3, targetCi: 0 } })).toThrow(
      UserError,
    );
  });

  it("take the seed's defaults from the command line, and the levels of the chosen mode", () => {
    expect(parseBench()).toMatchObject({
      clients: 1,
      mode: "concurrency",
      levels: [4, 8, 16, 32, 48, 64, 128],
      inputTokens: 5000,
      outputTokens: 250,
      repeats: 1,
      burstiness: 1,
      endpoint: "completions",
      overwrite: "refuse",
      timeouts: { requestMs: 600_000, firstTokenMs: 300_000 },
    });
    expect(resolveOptions({ ...base, endpoint: "chat" }).promptFormat).toBe("text");
    expect(resolveOptions(base).promptFormat).toBe("token-ids");
    expect(parseBench("-t", "request-rate", "-c", "2", "--burstiness", "inf")).toMatchObject({
      mode: "request-rate",
      levels: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      burstiness: Number.POSITIVE_INFINITY,
    });
  });

  it("take vllm bench serve's names for the input and output lengths and the concurrency", () => {
    expect(parseBench("--input-len", "32", "--output-len", "16", "-c", "8")).toMatchObject({
      inputTokens: 32,
      outputTokens: 16,
      levels: [8],
    });
    expect(
      parseBench("--random-input-len", "32", "--random-output-len", "16", "--max-concurrency", "8"),
    ).toMatchObject({ inputTokens: 32, outputTokens: 16, levels: [8] });
    // The names before vLLM's still work for old scripts.
    expect(parseBench("--itl", "7", "--otl", "3")).toMatchObject({ inputTokens: 7, outputTokens: 3 });
    expect(() => parseBench("--random-input-len", "0")).toThrow(
      /--random-input-len <n>' argument '0' is invalid/,
    );
  });

  it("refuse bad values while the command line is read, naming the flag", () => {
    const usage = (...args: string[]) => {
      try {
        parseBench(...args);
      } catch (error) {
        expect(error).toBeInstanceOf(CommanderError);
        return (error as CommanderError).message;
      }
      return expect.unreachable();
    };
    expect(usage("-t", "sometimes")).toMatch(/'-t, --type <mode>' argument 'sometimes' is invalid/);
    expect(usage("-c", "4,many")).toMatch(
      /-c, --concurrency <list>' argument '4,many' is invalid. "many" is not a number/,
    );
    expect(usage("-c", "4,4")).toMatch(/4 is listed twice/);
    expect(usage("-s", "0")).toMatch(/-s, --clients <n>' argument '0' is invalid/);
    expect(usage("--seed", "-1")).toMatch(/--seed <n>' argument '-1' is invalid/);
    expect(usage("--timeout", "0")).toMatch(/must be a number of seconds > 0/);
  });

  it("check the flags that go together once, reporting every clash", () => {
    expect(() => parseBench("--force", "--resume")).toThrow(UserError);
    try {
      parseBench("--force", "--resume", "-n", "5", "--prompts-per-concurrency", "2", "-t", "request-rate");
      expect.unreachable();
    } catch (error) {
      expect((error as UserError).details).toEqual([
        "• --force and --resume: give one or the other",
        "• -n/--num-prompts, --prompts-per-concurrency: give one of them, not several",
        "• --prompts-per-concurrency: only applies to -t concurrency",
      ]);
    }
  });

  it("scale requests with the concurrency by a chosen factor", () => {
    const plan = resolveOptions({ ...base, promptsPerConcurrency: 4 });
    expect(requestsPerLevel(plan, 16)).toBe(64);
    expect(() => resolveOptions({ ...base, promptsPerConcurrency: 4, numPrompts: 10 })).toThrow(/not valid/);
    expect(() => resolveOptions({ ...base, promptsPerConcurrency: 0 })).toThrow(/not valid/);
  });

  it("report every problem at once", () => {
    try {
      resolveOptions({
        ...base,
        clients: 0,
        levels: [4, 4, 2.5],
        numPrompts: 3,
        durationS: 10,
        baseUrl: "ftp://x",
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).details).toEqual([
        "• baseUrl: not an http(s) URL: ftp://x",
        "• clients: must be a whole number ≥ 1, got 0",
        "• levels: concurrency must be a whole number ≥ 1, got 2.5",
        "• levels: a level is listed twice",
        "• numPrompts and durationS: give one or the other, not both",
      ]);
    }
  });

  it("parse level lists, ranges, SLOs and burstiness", () => {
    expect(concurrencyListOption("4, 8,16")).toEqual([4, 8, 16]);
    expect(rateListOption("1..4,6")).toEqual([1, 2, 3, 4, 6]);
    expect(rateListOption("0.5,1.5")).toEqual([0.5, 1.5]);
    expect(() => concurrencyListOption("4,x")).toThrow(/"x" is not a number/);
    expect(() => concurrencyListOption("2.5")).toThrow(/whole number ≥ 1, got 2.5/);
    expect(() => rateListOption("4..2")).toThrow(/runs backwards/);
    expect(goodputOption("ttft:500,tpot:50,e2el:20000")).toEqual({ ttftMs: 500, tpotMs: 50, e2elMs: 20000 });
    expect(() => goodputOption("ttft=500")).toThrow(/METRIC:MS/);
    expect(burstinessOption("inf")).toBe(Number.POSITIVE_INFINITY);
    expect(burstinessOption("0.5")).toBe(0.5);
    expect(() => burstinessOption("0")).toThrow(InvalidArgumentError);
  });
});

describe("lengths, endpoint and tokenizer on the command line", () => {
  it("takes a length as a number or a distribution, and vLLM's --random-range-ratio", () => {
    expect(
      parseBench(
        "--input-len",
        "uniform:min=100,max=500",
        "--output-len",
        "lognormal:median=80,sigma=0.5,min=1,max=400",
      ),
    ).toMatchObject({
      inputTokens: { distribution: "uniform", min: 100, max: 500 },
      outputTokens: { distribution: "lognormal", median: 80, sigma: 0.5, min: 1, max: 400 },
    });
    expect(
      parseBench("--random-input-len", "1000", "--random-output-len", "100", "--random-range-ratio", "0.5"),
    ).toMatchObject({
      inputTokens: { distribution: "uniform", min: 500, max: 1500 },
      outputTokens: { distribution: "uniform", min: 50, max: 150 },
    });
    expect(() => parseBench("--input-len", "uniform:min=100")).toThrow(/uniform needs max/);
    expect(() => parseBench("--input-len", "normal:mean=5,std=1,min=9,max=3")).toThrow(
      /min 9 is more than max 3/,
    );
    expect(() => parseBench("--input-len", "zipf:s=1")).toThrow(/neither a token count/);
    try {
      parseBench("--input-len", "uniform:min=1,max=9", "--random-range-ratio", "0.1");
      expect.unreachable();
    } catch (error) {
      expect((error as UserError).details.join("\n")).toMatch(/already says its spread/);
    }
  });

  it("takes --endpoint as a word or as vLLM's path, and a tokenizer by name", () => {
    expect(parseBench("--endpoint", "chat", "--tokenizer", "o200k_base")).toMatchObject({
      endpoint: "chat",
      tokenizer: "o200k_base",
    });
    expect(parseBench("--endpoint", "/v1/chat/completions").endpoint).toBe("chat");
    expect(parseBench("--endpoint", "/v1/completions").endpoint).toBe("completions");
    expect(() => parseBench("--endpoint", "embeddings")).toThrow(/completions or chat/);
    expect(() => parseBench("--tokenizer", "llama")).toThrow();
    expect(() => resolveOptions({ ...base, endpoint: "chat", promptFormat: "token-ids" })).toThrow(UserError);
  });
});

describe("the workload", () => {
  const tokenIds = (seed: number) =>
    new Workload({
      model: "m",
      endpoint: "completions",
      promptFormat: "token-ids",
      shapes: fixedShape(5000, 250),
      seed,
    });

  it("sends exactly --input-len random token ids, the same for the same seed and index", () => {
    const w = tokenIds(9);
    const body = JSON.parse(w.body(3));
    expect(body).toMatchObject({
      model: "m",
      max_tokens: 250,
      ignore_eos: true,
      stream: true,
      stream_options: { include_usage: true, continuous_usage_stats: true },
    });
    expect(body.prompt).toHaveLength(5000);
    expect(body.prompt.every((id: number) => Number.isInteger(id) && id >= 1000 && id < 30000)).toBe(true);
    expect(w.body(3)).toBe(tokenIds(9).body(3));
    expect(JSON.parse(w.body(4)).prompt.slice(0, 20)).not.toEqual(body.prompt.slice(0, 20));
  });

  it("sends --input-len words as text when asked", () => {
    const w = new Workload({
      model: "m",
      endpoint: "completions",
      promptFormat: "text",
      shapes: fixedShape(100, 5),
      seed: 1,
    });
    const prompt = JSON.parse(w.body(0)).prompt as string;
    expect(prompt.split(" ")).toHaveLength(100);
  });

  it("sends chat bodies: one user message of the request's length, and its own max_tokens", () => {
    const w = new Workload({
      model: "m",
      endpoint: "chat",
      promptFormat: "text",
      shapes: (i) => ({ inputTokens: 10 + i, outputTokens: 3 + i }),
      words: ["a", "b"],
      seed: 1,
    });
    const { shape, body } = w.request(5);
    expect(shape).toEqual({ inputTokens: 15, outputTokens: 8 });
    const parsed = JSON.parse(body);
    expect(parsed).toMatchObject({ model: "m", max_tokens: 8, ignore_eos: true, stream: true });
    expect(parsed.prompt).toBeUndefined();
    expect(parsed.messages).toHaveLength(1);
    expect(parsed.messages[0].role).toBe("user");
    const words = (parsed.messages[0].content as string).split(" ");
    expect(words).toHaveLength(15);
    expect(words.every((word) => word === "a" || word === "b")).toBe(true);
  });

  it("sends a source's own prompt text as it is", () => {
    const w = new Workload({
      model: "m",
      endpoint: "chat",
      promptFormat: "text",
      shapes: () => ({ inputTokens: 4, outputTokens: 2, promptText: 'what is "ray"?' }),
      seed: 1,
    });
    expect(JSON.parse(w.body(0)).messages[0].content).toBe('what is "ray"?');
  });
});

describe("the client verdict", () => {
  const health = {
    wall_s: 30,
    event_loop_samples: 6000,
    event_loop_lag_p99_ms: 3,
    event_loop_lag_max_ms: 9,
    event_loop_lag_mean_ms: 1,
    cpu_percent: 40,
  };

  it("is ok for a healthy client that held its load", () => {
    expect(
      clientVerdict({
        health,
        mode: "concurrency",
        target: 64,
        achievedConcurrency: 63.5,
        medianRequestMs: 8000,
      }),
    ).toEqual({ verdict: "ok", reasons: [] });
  });

  it("names every reason a client was the bottleneck", () => {
    const v = clientVerdict({
      health: { ...health, event_loop_lag_p99_ms: 45, cpu_percent: 98 },
      mode: "concurrency",
      target: 64,
      achievedConcurrency: 50,
      medianRequestMs: 8000,
    });
    expect(v.verdict).toBe("client_bound");
    expect(v.reasons).toEqual([
      "event-loop lag p99 45 ms > 20 ms",
      "client CPU 98% > 90% of a core",
      "achieved concurrency 50 < 57.6 (target 64)",
    ]);
    expect(clientVerdict({ health, mode: "request-rate", target: 5, scheduleLagP99Ms: 35 }).reasons).toEqual([
      "schedule lag p99 35 ms > 20 ms",
    ]);
  });

  it("does not judge lag and CPU on a level too short to measure them", () => {
    const short = { ...health, wall_s: 0.2, event_loop_lag_p99_ms: 45, cpu_percent: 98 };
    expect(clientVerdict({ health: short, mode: "concurrency", target: 4 }).verdict).toBe("ok");
  });
});
