/**
 * The simulator's configuration: every rate, cost and switch, with defaults that make one LLM
 * replica behave like a small but believable GPU replica (a vLLM engine behind Ray Serve).
 *
 * Key names follow vLLM's engine arguments and Ray Serve's deployment options where the same
 * concept exists (max_num_seqs, max_num_batched_tokens, enable_prefix_caching, max_ongoing_requests,
 * stream_batching_interval_ms …), so a rendered service config maps onto this without translation.
 */
import { z } from "zod";
import { UserError } from "../errors.js";

const nonNegative = z.number().finite().nonnegative();
const positive = z.number().finite().positive();
const count = z.number().int().positive();
const fraction = z.number().min(0).max(1);

/** The simulated engine's context length unless its config says otherwise. */
export const SIM_DEFAULT_MAX_MODEL_LEN = 32768;

export const EngineConfigSchema = z
  .object({
    /** Slots: sequences that run (prefill or decode) at the same time. */
    max_num_seqs: count.default(256),
    /** Tokens one engine step may process: decodes take one each, prefill chunks share the rest. */
    max_num_batched_tokens: count.default(8192),
    /** Longest prompt + completion accepted; longer requests get a 400, as vLLM answers. */
    max_model_len: count.default(SIM_DEFAULT_MAX_MODEL_LEN),
    /** KV-cache budget in tokens. A sequence reserves prompt + max_tokens when it is admitted. */
    kv_cache_tokens: count.default(524_288),
    /** Prefix-cache block size in tokens (vLLM's default is 16). */
    block_size: count.default(16),
    /** Reuse the computed prefix of earlier prompts (whole blocks), skipping that part of prefill. */
    enable_prefix_caching: z.boolean().default(false),
    /** Blocks the prefix cache keeps (LRU); default kv_cache_tokens / block_size. */
    prefix_cache_blocks: count.optional(),
    /** Time to prefill one prompt token. */
    prefill_ms_per_token: nonNegative.default(0.02),
    /** Fixed cost of every engine step. */
    decode_base_ms: positive.default(8),
    /** Extra step cost per sequence that decodes in the step. */
    decode_per_seq_ms: nonNegative.default(0.08),
    /**
     * Ray Serve LLM's stream batcher: tokens of one request are sent together at most this often
     * (Ray's default is 50 ms); 0 sends every token as its own chunk.
     */
    stream_batching_interval_ms: nonNegative.default(50),
    /** Ray Serve: requests one LLM replica accepts before the router queues them (Ray LLM: 1e9). */
    max_ongoing_requests: count.default(1_000_000_000),
    /** Ray Serve: requests each ingress replica may hold waiting for a replica; -1 = unbounded. */
    max_queued_requests: z.number().int().min(-1).default(-1),
  })
  .strict();

export const IngressConfigSchema = z
  .object({
    /** Serial work an ingress replica spends on each request before routing it (parse, route). */
    request_overhead_ms: nonNegative.default(3),
    /** Serial work an ingress replica spends forwarding one chunk; its capacity is 1000/this chunks/s. */
    chunk_cost_ms: nonNegative.default(0.3),
    /**
     * Time a request spends on its way before an ingress replica sees it, costing no replica any
     * work: the client's network round trip, TLS, the load balancer. Shifts every token of the
     * request alike, so it shows in TTFT and not in TPOT. Calibrated profiles fit it from TTFT at
     * light load.
     */
    network_latency_ms: nonNegative.default(0),
    /**
     * Each request's latency is drawn uniformly from network_latency_ms × [1 − this, 1 + this].
     * Real networks vary, and the variation matters: identical requests that start together in a
     * closed loop would otherwise finish together and prefill together again, in lockstep convoys
     * that no real service shows.
     */
    network_jitter: fraction.default(0.5),
    /** How requests are spread over the ingress replicas (the HTTP proxy / load balancer in front). */
    assignment: z.enum(["round_robin", "random"]).default("round_robin"),
  })
  .strict();

export const FaultConfigSchema = z
  .object({
    /** Fraction of requests that fail. */
    error_rate: fraction.default(0),
    /** http_500: answered 500 at once; in_stream: fail after some tokens (an SSE error event). */
    error_mode: z.enum(["http_500", "in_stream"]).default("http_500"),
    /** Fraction of requests whose connection is destroyed mid-way, before [DONE]. */
    cut_rate: fraction.default(0),
    /** Delay before a request may enter the engine, i.e. a stalled first token. */
    stall_first_token_ms: nonNegative.default(0),
    /** Fraction of requests the stall applies to. */
    stall_rate: fraction.default(1),
    /** Time after start before the service is healthy and serves (503 until then). */
    startup_delay_ms: nonNegative.default(0),
    /** The service never becomes healthy (health and API answer 503 forever). */
    never_healthy: z.boolean().default(false),
  })
  .strict();

/** How real engines are not steady (src/sim/noise.ts; docs/noise.md). Off by default. */
export const NoiseConfigSchema = z
  .object({
    /** Relative standard deviation of each replica's step time (log-normal, mean 1); 0 = exact. */
    step_jitter: nonNegative.max(2).default(0),
    /** How long one drawn jitter factor holds; 0 = a new one every step (averages out within a level). */
    jitter_period_ms: nonNegative.default(0),
    /** Seed of the noise alone (default: the simulator's seed), so services can differ in noise only. */
    seed: z.number().int().optional(),
    /** A stretch during which every step of every replica takes `factor` times as long. */
    slowdown: z
      .object({
        /** 2.5 = steps take 2.5× as long (the token rate falls to 40%). */
        factor: positive,
        /** When it starts, counted from the replica's first request. */
        after_s: nonNegative.default(0),
        /** How long it lasts; absent = until the simulator stops. */
        duration_s: positive.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const SimConfigSchema = z
  .object({
    /** The served model id (`model_loading_config.model_id`). */
    model: z.string().min(1).default("sim-llm"),
    /** LLM replicas (each one engine). */
    replicas: count.default(1),
    /** Ingress replicas; default 2 × replicas, as Ray Serve LLM derives it before 2.51. */
    ingress_replicas: count.optional(),
    host: z.string().default("127.0.0.1"),
    /** 0 = any free port. */
    port: z.number().int().min(0).max(65535).default(0),
    /** Bearer token required on /v1 and /sim routes; absent = no auth. */
    token: z.string().min(1).optional(),
    /** Seed of every random choice (routing, faults, generated text, request ids). */
    seed: z.number().int().default(0),
    /** Mean output length when a request does not set ignore_eos (a deterministic pseudo-EOS). */
    natural_stop_mean_tokens: count.default(256),
    /** Finished requests kept for /sim/stats (a ring buffer). */
    stats_capacity: count.default(100_000),
    /** When the step loop falls this far behind its schedule (a stalled process), it re-anchors to now. */
    max_schedule_lag_ms: positive.default(250),
    /** A label for the runtime profile the ingress costs came from (shown in stats). */
    profile: z.string().default("default"),
    engine: EngineConfigSchema.prefault({}),
    ingress: IngressConfigSchema.prefault({}),
    faults: FaultConfigSchema.prefault({}),
    noise: NoiseConfigSchema.prefault({}),
  })
  .strict();

export type EngineConfig = z.output<typeof EngineConfigSchema>;
export type IngressConfig = z.output<typeof IngressConfigSchema>;
export type FaultConfig = z.output<typeof FaultConfigSchema>;
export type NoiseConfig = z.output<typeof NoiseConfigSchema>;
export type SimConfig = z.output<typeof SimConfigSchema> & { ingress_replicas: number };
/** What callers may pass: every key optional, nested blocks partial. */
export type SimConfigInput = DeepPartial<z.input<typeof SimConfigSchema>>;

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/**
 * Validates a (partial) configuration and fills in every default. `source` names where it came
 * from (a file, flags, an env var) for the error message.
 */
export function parseSimConfig(input: unknown = {}, source = "given in code"): SimConfig {
  const result = SimConfigSchema.safeParse(input);
  if (!result.success) {
    const details = result.error.issues.map((issue) => {
      const path = issue.path.join(".") || "(top level)";
      return `• ${path}: ${issue.message}`;
    });
    throw new UserError(`invalid simulator settings (${source})`, {
      details,
      hint: "docs/simulator.md lists every key and its default",
    });
  }
  const config = result.data;
  checkConsistency(config, source);
  return { ...config, ingress_replicas: config.ingress_replicas ?? 2 * config.replicas };
}

function checkConsistency(config: z.output<typeof SimConfigSchema>, source: string): void {
  const problems: string[] = [];
  const { engine } = config;
  if (engine.max_num_batched_tokens < engine.max_num_seqs) {
    // vLLM refuses this too: a full batch of decodes would not fit in one step.
    problems.push(
      `• engine.max_num_batched_tokens: ${engine.max_num_batched_tokens} is smaller than engine.max_num_seqs (${engine.max_num_seqs})`,
    );
  }
  if (engine.kv_cache_tokens < engine.max_model_len) {
    problems.push(
      `• engine.kv_cache_tokens: ${engine.kv_cache_tokens} cannot hold one sequence of max_model_len ${engine.max_model_len}`,
    );
  }
  if (problems.length > 0)
    throw new UserError(`inconsistent simulator settings (${source})`, { details: problems });
}

/**
 * Deep merge of partial configs, later ones winning; plain objects merge key by key, everything
 * else (numbers, arrays, strings) is replaced. Used to layer defaults < service config < runtime
 * profile < environment < explicit overrides.
 */
export function mergeSimConfigInputs(...layers: Array<SimConfigInput | undefined>): SimConfigInput {
  let merged: Record<string, unknown> = {};
  for (const layer of layers) {
    if (layer) merged = mergeObjects(merged, layer as Record<string, unknown>);
  }
  return merged as SimConfigInput;
}

function mergeObjects(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? mergeObjects(current, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A child simulator exits when the process with this pid is gone (see main.ts). */
export const PARENT_PID_ENV = "ORCHESTRATE_SIM_PARENT_PID";

/** The environment variable through which a parent hands a child simulator its (partial) config. */
export const SIM_CONFIG_ENV = "ORCHESTRATE_SIM_CONFIG";

/** Reads `ORCHESTRATE_SIM_CONFIG` (JSON of a partial config), if set. */
export function simConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SimConfigInput | undefined {
  const text = env[SIM_CONFIG_ENV];
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (!isPlainObject(value)) throw new Error("not a JSON object");
    return value as SimConfigInput;
  } catch (error) {
    throw new UserError(`${SIM_CONFIG_ENV} is not a JSON object of simulator settings`, {
      cause: error,
      hint: `e.g. ${SIM_CONFIG_ENV}='{"faults":{"error_rate":0.1}}'`,
    });
  }
}
