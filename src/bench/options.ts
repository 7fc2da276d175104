import { UserError } from "../errors.js";
import { type LengthSpec, lengthSpecProblems } from "../model/lengths.js";
import type { TokenizerName } from "../model/tokenizers.js";
import type { LoadMode } from "../model/types.js";
import type { WorkloadFileRecord, WorkloadFileSpec } from "../workloads/workload-file.js";
import type { Slo } from "./aggregate.js";
import type { ClientTimeouts } from "./client.js";
import type { Endpoint, PromptFormat } from "./workload.js";

/**
 * What a benchmark run is asked to do: the options of `orchestrate bench` and of the pipeline's
 * bench step, checked all at once (every problem reported, not the first one).
 */

export type OverwritePolicy = "refuse" | "force" | "resume";

/** Written into experiment.json, so reports know what was measured without parsing folder names. */
export interface BenchLabels {
  image?: string;
  runtime?: "oss" | "turbo";
  scale?: number;
  cell?: string;
}

export interface RepeatsTarget {
  min: number;
  targetCi: number;
}

export interface BenchOptions {
  /** Base URL of the OpenAI-compatible server (`http://host:8000`, with or without `/v1`). */
  baseUrl: string;
  /** Bearer token. Sent to the server only; never written to any file or log. */
  token?: string;
  /** Alias of `token`. */
  apiKey?: string;
  /** Model to request; discovered from GET /v1/models when absent. */
  model?: string;
  /** Client processes (parts); levels are per client. */
  clients: number;
  mode: LoadMode;
  /** Per-client concurrencies, per-client request rates (req/s), or replay speeds (mode replay). */
  levels: number[];
  /** A fixed length, or a distribution drawn per request from (seed, request index). */
  inputTokens: LengthSpec;
  outputTokens: LengthSpec;
  /** /v1/completions (default) or /v1/chat/completions. */
  endpoint?: Endpoint;
  /** The model's tokenizer, for text prompts of an exact length (chat); see prompt-words.ts. */
  tokenizer?: TokenizerName;
  /**
   * Prompts from a dataset (concurrency or request-rate mode), or the trace a replay plays
   * (mode replay, where it is required). Absent: synthetic prompts of inputTokens/outputTokens.
   * With one, the lengths must be numbers: outputTokens is the answer length of dataset rows that
   * give none.
   */
  workloadFile?: WorkloadFileSpec;
  /** The model's context length: a dataset or trace row that does not fit is refused up front. */
  maxModelLen?: number;
  /** Requests per client per level (default 10 × concurrency, or 500 in rate mode)… */
  numPrompts?: number;
  /** …or this many × the concurrency (closed loop; the seed's default is 10)… */
  promptsPerConcurrency?: number;
  /** …or issue requests for this many seconds per level instead. */
  durationS?: number;
  /**
   * Requests per client per level issued first and left out of the statistics. Absent: one wave
   * (the level's concurrency) in concurrency mode, none in request-rate mode; 0 turns it off.
   */
  warmup?: number;
  /** Run the whole sweep this many times (repeat 1 runs every level, then repeat 2 …). */
  repeats?: number;
  /**
   * Repeats until sure: a level stops repeating once it has run `min` times and the 95% interval
   * of its mean output throughput is within ±targetCi (relative); `repeats` is then the most.
   */
  repeatsTarget?: RepeatsTarget;
  /** Open loop: 1 = Poisson (default), other values gamma, Infinity constant spacing. */
  burstiness?: number;
  /** Run seed; a fresh one is drawn (and recorded) when absent. */
  seed?: number;
  /**
   * The seed of request lengths; absent: derived from the run seed. A pipeline passes one seed
   * for all its cells, so every scale is asked for the same lengths.
   */
  lengthSeed?: number;
  goodput?: Slo;
  promptFormat?: PromptFormat;
  /** The experiment folder. */
  expDir: string;
  labels?: BenchLabels;
  overwrite?: OverwritePolicy;
  timeouts?: Partial<ClientTimeouts>;
  /** After a stop, how long requests in flight may finish before they are cancelled. */
  stopGraceMs?: number;
}

/** The options with every default applied. */
export interface BenchPlan {
  baseUrl: string;
  token: string | undefined;
  model: string | undefined;
  clients: number;
  mode: LoadMode;
  levels: number[];
  inputTokens: LengthSpec;
  outputTokens: LengthSpec;
  endpoint: Endpoint;
  tokenizer: TokenizerName | undefined;
  workloadFile: WorkloadFileSpec | undefined;
  maxModelLen: number | undefined;
  /** The workload file as checked before the run (set by the coordinator's scan). */
  workloadRecord: WorkloadFileRecord | undefined;
  /** The answer length of dataset rows that give none (outputTokens becomes the rows' mean). */
  defaultOutputTokens: number;
  numPrompts: number | undefined;
  promptsPerConcurrency: number;
  durationS: number | undefined;
  warmup: WarmupPolicy;
  repeats: number;
  repeatsTarget: RepeatsTarget | undefined;
  burstiness: number;
  seed: number | undefined;
  lengthSeed: number | undefined;
  goodput: Slo | undefined;
  promptFormat: PromptFormat;
  expDir: string;
  labels: BenchLabels;
  overwrite: OverwritePolicy;
  timeouts: Partial<ClientTimeouts>;
  stopGraceMs: number;
}

/**
 * Warm-up requests per client per level: a fixed count, or one wave (as many requests as the
 * level's concurrency, so every slot has seen a request before anything is measured).
 */
export type WarmupPolicy = number | "one-wave";

/** Warm-up requests per client at a level under the policy (rate mode has no waves: none). */
export function warmupPerLevel(plan: Pick<BenchPlan, "mode" | "warmup">, level: number): number {
  if (plan.warmup !== "one-wave") return plan.warmup;
  return plan.mode === "concurrency" ? level : 0;
}

export const DEFAULT_CONCURRENCIES = [4, 8, 16, 32, 48, 64, 128];
export const DEFAULT_RATES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
export const DEFAULT_RATE_MODE_PROMPTS = 500;
export const PROMPTS_PER_CONCURRENCY = 10;

/** Requests per client at a level, as the seed ran them. */
export function requestsPerLevel(
  plan: Pick<BenchPlan, "mode" | "numPrompts" | "promptsPerConcurrency">,
  level: number,
): number {
  if (plan.numPrompts !== undefined) return plan.numPrompts;
  return plan.mode === "concurrency" ? plan.promptsPerConcurrency * level : DEFAULT_RATE_MODE_PROMPTS;
}

export function resolveOptions(options: BenchOptions): BenchPlan {
  const problems: string[] = [];
  const positiveInt = (name: string, value: number | undefined) => {
    if (value !== undefined && (!Number.isInteger(value) || value < 1))
      problems.push(`• ${name}: must be a whole number ≥ 1, got ${value}`);
  };
  try {
    const url = new URL(options.baseUrl);
    if (url.protocol !== "http:" && url.protocol !== "https:")
      problems.push(`• baseUrl: not an http(s) URL: ${options.baseUrl}`);
    if (url.username || url.password)
      problems.push("• baseUrl: must not carry credentials; use the token (OPENAI_API_KEY)");
  } catch {
    problems.push(`• baseUrl: not a URL: ${options.baseUrl}`);
  }
  positiveInt("clients", options.clients);
  for (const line of lengthSpecProblems("inputTokens", options.inputTokens)) problems.push(`• ${line}`);
  for (const line of lengthSpecProblems("outputTokens", options.outputTokens)) problems.push(`• ${line}`);
  if (options.endpoint === "chat" && options.promptFormat === "token-ids")
    problems.push(
      "• promptFormat: chat prompts are text; token-ids applies to the completions endpoint only",
    );
  positiveInt("numPrompts", options.numPrompts);
  positiveInt("promptsPerConcurrency", options.promptsPerConcurrency);
  if (options.promptsPerConcurrency !== undefined) {
    if (options.numPrompts !== undefined || options.durationS !== undefined)
      problems.push("• promptsPerConcurrency: give it, numPrompts or durationS, not several");
    if (options.mode !== "concurrency")
      problems.push("• promptsPerConcurrency: only applies to the concurrency mode");
  }
  if (options.levels.length === 0) problems.push("• levels: at least one level is needed");
  problems.push(...workloadFileProblems(options));
  positiveInt("maxModelLen", options.maxModelLen);
  for (const level of options.levels) {
    const ok =
      options.mode === "concurrency"
        ? Number.isInteger(level) && level >= 1
        : Number.isFinite(level) && level > 0;
    if (!ok) {
      problems.push(
        options.mode === "concurrency"
          ? `• levels: concurrency must be a whole number ≥ 1, got ${level}`
          : options.mode === "replay"
            ? `• levels: replay speed must be a number > 0, got ${level}`
            : `• levels: request rate must be a number > 0, got ${level}`,
      );
    }
  }
  if (new Set(options.levels).size !== options.levels.length)
    problems.push("• levels: a level is listed twice");
  if (options.numPrompts !== undefined && options.durationS !== undefined) {
    problems.push("• numPrompts and durationS: give one or the other, not both");
  }
  if (options.durationS !== undefined && !(options.durationS > 0))
    problems.push(`• durationS: must be > 0, got ${options.durationS}`);
  if (options.warmup !== undefined && (!Number.isInteger(options.warmup) || options.warmup < 0)) {
    problems.push(`• warmup: must be a whole number ≥ 0, got ${options.warmup}`);
  }
  positiveInt("repeats", options.repeats);
  const target = options.repeatsTarget;
  if (target) {
    if (!Number.isInteger(target.min) || target.min < 2)
      problems.push(`• repeatsTarget.min: must be a whole number ≥ 2, got ${target.min}`);
    else if (target.min > (options.repeats ?? 1))
      problems.push(
        `• repeatsTarget.min: ${target.min} is more than repeats (${options.repeats ?? 1}), the most a level runs`,
      );
    if (!(target.targetCi > 0 && target.targetCi < 1))
      problems.push(
        `• repeatsTarget.targetCi: must be a fraction above 0 and below 1, got ${target.targetCi}`,
      );
  }
  const burstiness = options.burstiness ?? 1;
  if (!(burstiness > 0))
    problems.push(`• burstiness: must be > 0 (1 = Poisson, inf = constant), got ${burstiness}`);
  if (
    options.seed !== undefined &&
    (!Number.isInteger(options.seed) || options.seed < 0 || options.seed > 0xffffffff)
  ) {
    problems.push(`• seed: must be a whole number from 0 to 4294967295, got ${options.seed}`);
  }
  for (const [name, value] of Object.entries(options.goodput ?? {})) {
    if (value !== undefined && !(value > 0)) problems.push(`• goodput.${name}: must be > 0 ms, got ${value}`);
  }
  if (options.token && options.apiKey && options.token !== options.apiKey)
    problems.push("• token and apiKey: differ; give one");
  if (problems.length > 0) {
    throw new UserError("the benchmark options are not valid", { details: problems });
  }
  return {
    baseUrl: options.baseUrl,
    token: options.token ?? options.apiKey,
    model: options.model,
    clients: options.clients,
    mode: options.mode,
    levels: [...options.levels],
    inputTokens: options.inputTokens,
    outputTokens: options.outputTokens,
    endpoint: options.endpoint ?? "completions",
    tokenizer: options.tokenizer,
    workloadFile: options.workloadFile,
    maxModelLen: options.maxModelLen,
    workloadRecord: undefined,
    defaultOutputTokens: typeof options.outputTokens === "number" ? options.outputTokens : 0,
    numPrompts: options.numPrompts,
    promptsPerConcurrency: options.promptsPerConcurrency ?? PROMPTS_PER_CONCURRENCY,
    durationS: options.durationS,
    warmup: options.warmup ?? "one-wave",
    repeats: options.repeats ?? 1,
    repeatsTarget: options.repeatsTarget,
    burstiness,
    seed: options.seed,
    lengthSeed: options.lengthSeed,
    goodput: options.goodput && Object.keys(options.goodput).length > 0 ? options.goodput : undefined,
    promptFormat: options.promptFormat ?? (options.endpoint === "chat" ? "text" : "token-ids"),
    expDir: options.expDir,
    labels: options.labels ?? {},
    overwrite: options.overwrite ?? "refuse",
    timeouts: options.timeouts ?? {},
    stopGraceMs: options.stopGraceMs ?? 3000,
  };
}

/**
 * A replay plays its trace whole, once per level: it needs the trace, and takes no request count
 * or duration; a dataset gives prompts to the other modes.
 */
function workloadFileProblems(options: BenchOptions): string[] {
  const problems: string[] = [];
  const file = options.workloadFile;
  if (options.mode === "replay") {
    if (file?.kind !== "trace") problems.push("• mode replay: needs a trace to replay (--trace FILE)");
    if (options.numPrompts !== undefined)
      problems.push("• numPrompts: a replay sends every row of its trace; leave it out");
    if (options.durationS !== undefined)
      problems.push("• durationS: a replay lasts as long as its trace at the speed; leave it out");
  } else if (file?.kind === "trace") {
    problems.push(`• trace: only mode replay plays a trace; mode is ${options.mode}`);
  }
  // A file's rows carry their own lengths; a distribution beside them would be accepted and ignored.
  if (file) {
    for (const [name, spec] of [
      ["inputTokens", options.inputTokens],
      ["outputTokens", options.outputTokens],
    ] as const) {
      if (typeof spec !== "number")
        problems.push(
          `• ${name}: a ${file.kind} gives each request its lengths; give a number, not a distribution`,
        );
    }
  }
  return problems;
}

/**
 * Reads the plan's dataset or trace whole (streamed) and checks every row, before anything
 * starts; the plan then carries the file's record and its rows' mean lengths.
 */
export async function withWorkloadFile(plan: BenchPlan): Promise<BenchPlan> {
  if (!plan.workloadFile) return plan;
  const { scanWorkloadFile } = await import("../workloads/workload-file.js");
  const record = await scanWorkloadFile(plan.workloadFile, {
    outputTokens: plan.defaultOutputTokens,
    ...(plan.maxModelLen !== undefined ? { maxModelLen: plan.maxModelLen } : {}),
  });
  return {
    ...plan,
    workloadRecord: record,
    inputTokens: Math.max(1, Math.round(record.mean_input_tokens)),
    outputTokens: Math.max(1, Math.round(record.mean_output_tokens)),
  };
}
