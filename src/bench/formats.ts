import { describeLengths, type LengthSpec, meanLength } from "../model/lengths.js";
import { aggregateLikeSeed } from "../model/seed-view.js";
import type { DataWarning, LatencyMetric, LatencyStats, LoadMode } from "../model/types.js";
import { latencyToVllm } from "../model/vllm-format.js";
import type { LevelAggregate, Slo } from "./aggregate.js";
import type { ClientHealth, ClientVerdict } from "./client-health.js";
import { arrivalsFor } from "./schedulers.js";
import {
  assessSteadiness,
  MAX_FIFTHS_CV,
  MAX_HALVES_CHANGE,
  type NotJudged,
  type Steadiness,
} from "./steadiness.js";

/**
 * The JSON files of a level: `partK/concC.json` (one client, vLLM's keys and meanings, so it
 * reads like `vllm bench serve --save-result` output) and `all-parts/concC.json` (the window
 * aggregate over all clients, with the seed's sum/average view beside it). Both carry extra keys
 * of ours and a `definitions` block, so a file explains itself without this code.
 */

export const RESULT_FORMAT = "orchestrate-level";
export const RESULT_VERSION = 1;

/** One line per metric; docs/metrics.md has the full text. */
export const DEFINITIONS: Record<string, string> = {
  ttft: "time to first token: first token-bearing chunk − request sent on its connection, ms (successful requests only)",
  tpot: "time per output token: (e2el − ttft) / (completion_tokens − 1), per request with > 1 token, ms",
  itl: "inter-token latency: gap between consecutive token-bearing chunks, one value per chunk, pooled, ms",
  itl_per_token: "each chunk's gap divided by the tokens it carried, weighted by those tokens, ms",
  e2el: "end-to-end latency: last token-bearing chunk − request sent (trailing usage event excluded), ms",
  duration:
    "part files: first send → last completion of the part, s (vLLM); all-parts: the shared steady-state window, s",
  completed: "requests that streamed every token and ended with [DONE]",
  failed:
    "requests that failed, one error kind each (see errors_by_kind); kept in the records, left out of latencies",
  request_throughput:
    "completed requests / duration (all-parts: each completed request counted by the share of its time in flight inside the window, / window)",
  output_throughput:
    "output tokens of completed requests / duration (all-parts: each request's output tokens counted by the share of its time in flight inside the window, / window)",
  total_token_throughput:
    "(input + output tokens) / duration (all-parts: both counted by the window share of each request, as output_throughput)",
  request_goodput:
    "requests meeting every SLO (--goodput) per second, counted as request_throughput counts; null without SLOs",
  output_goodput:
    "output tokens of requests meeting every SLO per second, counted as output_throughput counts; null without SLOs",
  max_output_tokens_per_s: "most output tokens that arrived within one second of the level's time line",
  max_concurrent_requests: "most completed requests active within one second of the level's time line",
  errors_by_kind:
    "connect, http_4xx, http_429, http_5xx, timeout_before_first_token, stream_broken (ended before [DONE]), truncated (fewer tokens than max_tokens despite ignore_eos), bad_response, cancelled (stopped by the client)",
  lengths:
    "the prompt (input) and answer (output) lengths asked for: a number, or a distribution drawn per request from (seed, request index); input_len / output_len are their means",
  prompt_tokens_deviation:
    "server-counted prompt tokens (usage.prompt_tokens) − requested prompt tokens, over requests with usage: mean, min, max (chat: the chat template's tokens)",
  tokens_per_chunk:
    "tokens carried by each token-bearing chunk (> 1 when the server batches tokens into chunks)",
  token_source:
    "usage: token counts from the server's usage; chunks: counted from the stream (no usage sent)",
  estimated_chunk_tokens:
    "requests whose per-chunk token counts were estimated (the server gave no per-event usage)",
  achieved_concurrency: "time-weighted mean of requests in flight over the steady-state window",
  achieved_rate: "requests sent per second over the steady-state window",
  schedule_lag_ms: "open loop: actual send − scheduled send, ms",
  client_queue_ms:
    "time the client held a request before it went out on a connection (undici waits one event-loop turn before reusing a keep-alive connection); not part of TTFT/E2EL, shown so it is not hidden",
  client:
    "client health: event-loop lag, CPU, and the verdict ok | client_bound (the client, not the server, limited the load)",
  window:
    "steady state: from when every part had its target in flight and its warm-up requests finished, to when the first part stopped issuing",
  seed_view: "the seed's arithmetic: sums of per-part throughputs and means of per-part latency statistics",
  seed_view_diff: "window aggregate − seed view, absolute and relative",
  steadiness: `the window cut into 10 equal slices, output tokens/s in each (each request's output spread over its time in flight); unsteady when the halves' rates differ by more than ${MAX_HALVES_CHANGE * 100}% of the mean, or the fifths' coefficient of variation exceeds ${MAX_FIFTHS_CV * 100}%; null when not judged (no steady window, a window shorter than the median request, or under 50 tokens per slice), with a steadiness_unjudged warning saying why (docs/noise.md)`,
  repeats:
    "with repeats: one entry per run of the whole sweep; the level's throughputs are their mean, latency percentiles pooled from every repeat's samples",
  output_throughput_ci95:
    "95% confidence interval of the mean output throughput over the repeats (Student's t, n − 1 degrees of freedom); null with one repeat",
};

export interface LevelContext {
  key: string;
  mode: LoadMode;
  /** Per-client concurrency, request rate, or replay speed. */
  target: number;
  modelId: string;
  inputTokens: LengthSpec;
  outputTokens: LengthSpec;
  /** The seed request lengths are drawn from (with a distribution). */
  lengthSeed: number;
  endpoint: "completions" | "chat";
  burstiness: number;
  startedAtEpochMs: number;
  slo?: Slo;
  toolVersion: string;
}

export interface PartExtras {
  part: number;
  seed: number;
  health: ClientHealth;
  verdict: ClientVerdict;
}

/** `partK/concC.json`. */
export function partResultJson(
  aggregate: LevelAggregate,
  context: LevelContext,
  extras: PartExtras,
): Record<string, unknown> {
  const seconds = aggregate.span.seconds;
  const out: Record<string, unknown> = {
    ...vllmHeader(aggregate, context),
    duration: seconds,
    completed: aggregate.completed,
    failed: aggregate.failed,
    total_input_tokens: aggregate.totalInputTokens,
    total_output_tokens: aggregate.totalOutputTokens,
    request_throughput: perSecond(aggregate.completed, seconds),
    request_goodput: context.slo ? perSecond(aggregate.goodRequests, seconds) : null,
    output_throughput: perSecond(aggregate.totalOutputTokens, seconds),
    total_token_throughput: perSecond(aggregate.totalInputTokens + aggregate.totalOutputTokens, seconds),
    max_output_tokens_per_s: aggregate.maxOutputTokensPerS,
    max_concurrent_requests: aggregate.maxConcurrentRequests,
    ...latencyKeys(aggregate),
    output_goodput: context.slo ? perSecond(aggregate.goodOutputTokens, seconds) : null,
    window_output_throughput: perSecond(aggregate.inWindow.outputTokens, aggregate.window.seconds),
    window_request_throughput: perSecond(aggregate.inWindow.requests, aggregate.window.seconds),
    ...commonExtras(aggregate, context),
    part: extras.part,
    seed: extras.seed,
    client: { ...extras.health, verdict: extras.verdict.verdict, reasons: extras.verdict.reasons },
  };
  out.warnings = levelWarnings(context.key, aggregate, [{ part: extras.part, ...extras.verdict }], context);
  out.definitions = DEFINITIONS;
  return out;
}

export interface PartSummaryForAggregate {
  part: number;
  json: Record<string, unknown>;
}

/** `all-parts/concC.json`. `parts` are the part files of the level, in part order. */
export function allPartsResultJson(
  aggregate: LevelAggregate,
  context: LevelContext,
  parts: readonly PartSummaryForAggregate[],
): Record<string, unknown> {
  const seconds = aggregate.window.seconds;
  const w = aggregate.inWindow;
  const clients = parts.map(({ part, json }) => {
    const client = (json.client ?? {}) as Partial<ClientHealth> & { verdict?: string; reasons?: string[] };
    return {
      part,
      verdict: client.verdict === "client_bound" ? ("client_bound" as const) : ("ok" as const),
      reasons: client.reasons ?? [],
      event_loop_lag_p99_ms: client.event_loop_lag_p99_ms,
      cpu_percent: client.cpu_percent,
      achieved_concurrency: aggregate.achievedConcurrencyByPart[String(part)],
      // This client's share of the shared window's rates: the clients' shares add up to the level's.
      output_throughput: perSecond(aggregate.inWindowByPart[String(part)]?.outputTokens ?? 0, seconds),
      request_throughput: perSecond(aggregate.inWindowByPart[String(part)]?.requests ?? 0, seconds),
    };
  });
  const out: Record<string, unknown> = {
    ...vllmHeader(aggregate, context),
    duration: seconds,
    completed: aggregate.completed,
    failed: aggregate.failed,
    total_input_tokens: aggregate.totalInputTokens,
    total_output_tokens: aggregate.totalOutputTokens,
    request_throughput: perSecond(w.requests, seconds),
    request_goodput: context.slo ? perSecond(w.goodRequests, seconds) : null,
    output_throughput: perSecond(w.outputTokens, seconds),
    total_token_throughput: perSecond(w.inputTokens + w.outputTokens, seconds),
    max_output_tokens_per_s: aggregate.maxOutputTokensPerS,
    max_concurrent_requests: aggregate.maxConcurrentRequests,
    ...latencyKeys(aggregate),
    output_goodput: context.slo ? perSecond(w.goodOutputTokens, seconds) : null,
    method: "window",
    parts: parts.length,
    span_s: aggregate.span.seconds,
    in_window: {
      requests: w.requests,
      output_tokens: w.outputTokens,
      input_tokens: w.inputTokens,
      good_requests: w.goodRequests,
    },
    ...commonExtras(aggregate, context),
    achieved_concurrency_per_client: perClient(aggregate.achievedConcurrency, parts.length),
    client_verdict: clients.some((c) => c.verdict === "client_bound") ? "client_bound" : "ok",
    clients,
  };
  const partJsons = parts.map((p) => p.json);
  if (partJsons.length > 0) {
    const seed = aggregateLikeSeed(partJsons);
    out.seed_view = seed;
    out.seed_view_diff = seedViewDiff(out, seed);
  }
  const steadiness = assessSteadiness(
    aggregate.sliceOutputRates,
    aggregate.window.seconds / Math.max(1, aggregate.sliceOutputRates.length),
    aggregate.medianRequestMs / 1000,
  );
  out.steadiness = steadiness.verdict === "not_judged" ? null : steadinessJson(steadiness);
  const warnings = levelWarnings(context.key, aggregate, clients, context);
  const steadinessWarning = steadinessWarningOf(context.key, aggregate, steadiness);
  if (steadinessWarning) warnings.push(steadinessWarning);
  out.warnings = warnings;
  out.definitions = DEFINITIONS;
  return out;
}

function steadinessJson(s: Steadiness): Record<string, unknown> {
  return {
    verdict: s.verdict,
    slice_seconds: s.sliceSeconds,
    output_rates: s.sliceRates,
    halves_change: s.halvesChange,
    fifths_cv: s.fifthsCv,
    reasons: s.reasons,
  };
}

/**
 * What the steadiness check has to say about a level: `unsteady`, or `steadiness_unjudged` when a
 * window existed but was too short or too thin to judge (a fallback window has its own warning,
 * which already says there is no steady state).
 */
function steadinessWarningOf(
  key: string,
  aggregate: LevelAggregate,
  steadiness: Steadiness | NotJudged,
): DataWarning | undefined {
  if (steadiness.verdict === "unsteady") return unsteadyWarning(key, steadiness);
  if (steadiness.verdict !== "not_judged" || aggregate.window.fallback !== undefined) return undefined;
  return {
    kind: "steadiness_unjudged",
    level: key,
    message: `${key}: steadiness not judged: ${steadiness.reason}. A slowdown during this level would not show; use more requests per level (prompts per concurrency) or --duration.`,
  };
}

/** The `unsteady` warning of a level, with its slice rates so a reader sees the shape. */
export function unsteadyWarning(key: string, s: Steadiness): DataWarning {
  const rates = s.sliceRates.map((r) => r.toFixed(0)).join(", ");
  return {
    kind: "unsteady",
    level: key,
    message: `${key}: not steady: ${s.reasons.join("; ")}. Output tok/s in ${s.sliceRates.length} slices of ${s.sliceSeconds.toFixed(1)} s: ${rates}. One number does not describe this level; repeat it, or find what changed.`,
  };
}

function vllmHeader(aggregate: LevelAggregate, context: LevelContext): Record<string, unknown> {
  return {
    date: vllmDate(new Date(context.startedAtEpochMs)),
    endpoint_type: "openai",
    backend: "openai",
    label: null,
    model_id: context.modelId,
    tokenizer_id: null,
    num_prompts: aggregate.numPrompts,
    // A replay's rate is the trace's, which varies: vLLM's "inf" is the honest single number.
    request_rate: context.mode === "request-rate" ? context.target * aggregate.parts.length : "inf",
    // vLLM writes a float; constant spacing (infinite burstiness) has no JSON number.
    burstiness: Number.isFinite(context.burstiness) ? context.burstiness : null,
    max_concurrency: context.mode === "concurrency" ? context.target : null,
  };
}

function commonExtras(aggregate: LevelAggregate, context: LevelContext): Record<string, unknown> {
  const out: Record<string, unknown> = {
    format: RESULT_FORMAT,
    format_version: RESULT_VERSION,
    tool_version: context.toolVersion,
    level: context.key,
    mode: context.mode,
    // vLLM's keys hold one length; with a distribution, its mean (the spec is in `lengths`).
    input_len: Math.round(meanLength(context.inputTokens)),
    output_len: Math.round(meanLength(context.outputTokens)),
    lengths: {
      input: context.inputTokens,
      output: context.outputTokens,
      seed: context.lengthSeed,
      described: describeLengths(context.inputTokens, context.outputTokens, context.lengthSeed),
    },
    endpoint: context.endpoint,
    prompt_tokens_deviation: aggregate.promptDeviation
      ? {
          requests: aggregate.promptDeviation.requests,
          requested_mean: aggregate.promptDeviation.requestedMean,
          server_mean: aggregate.promptDeviation.servedMean,
          mean: aggregate.promptDeviation.mean,
          min: aggregate.promptDeviation.min,
          max: aggregate.promptDeviation.max,
        }
      : null,
    warmup_requests: aggregate.warmupRequests,
    median_request_ms: aggregate.medianRequestMs,
    errors_by_kind: aggregate.errorsByKind,
    token_source: aggregate.tokenSource,
    estimated_chunk_tokens: aggregate.estimatedChunkTokens,
    tokens_per_chunk: aggregate.tokensPerChunk ?? null,
    client_queue_ms: aggregate.clientQueueMs
      ? {
          mean: aggregate.clientQueueMs.mean,
          p50: aggregate.clientQueueMs.median,
          p99: aggregate.clientQueueMs.p99,
        }
      : null,
    ...statsKeys("itl_per_token", aggregate.itlPerToken),
    window: {
      start_ms: aggregate.window.startUs / 1000,
      end_ms: aggregate.window.endUs / 1000,
      length_s: aggregate.window.seconds,
      disjoint: aggregate.window.disjoint,
      ...(aggregate.window.fallback ? { fallback: aggregate.window.fallback } : {}),
    },
    interrupted: aggregate.interrupted,
  };
  if (context.slo) out.goodput_slo = context.slo;
  if (context.mode === "concurrency") {
    out.target_concurrency = context.target;
    out.achieved_concurrency = aggregate.achievedConcurrency;
  } else {
    out.target_rate = context.target;
    out.arrivals = arrivalsFor(context.burstiness);
    out.achieved_rate = aggregate.achievedRate;
    out.schedule_lag_ms = aggregate.scheduleLagMs ?? null;
  }
  return out;
}

function latencyKeys(aggregate: LevelAggregate): Record<string, number> {
  const out: Record<string, number> = {};
  for (const metric of ["ttft", "tpot", "itl", "e2el"] as LatencyMetric[]) {
    const stats = aggregate.latency[metric];
    if (stats) Object.assign(out, latencyToVllm(metric, stats));
  }
  return out;
}

function statsKeys(name: string, stats: LatencyStats | undefined): Record<string, number> {
  if (!stats) return {};
  // Same spelling as vLLM's keys (mean_X_ms, p99_X_ms), for a metric vLLM does not have.
  const asMetric = latencyToVllm("itl", stats);
  return Object.fromEntries(Object.entries(asMetric).map(([k, v]) => [k.replace("_itl_", `_${name}_`), v]));
}

const DIFF_KEYS = [
  "request_throughput",
  "output_throughput",
  "total_token_throughput",
  "median_ttft_ms",
  "p99_ttft_ms",
  "median_tpot_ms",
  "p99_tpot_ms",
  "median_itl_ms",
  "p99_itl_ms",
] as const;

function seedViewDiff(ours: Record<string, unknown>, seed: Record<string, unknown>): Record<string, unknown> {
  const diff: Record<string, unknown> = {};
  for (const key of DIFF_KEYS) {
    const a = ours[key];
    const b = seed[key];
    if (typeof a !== "number" || typeof b !== "number") continue;
    diff[key] = { window: a, seed: b, difference: a - b, relative: b === 0 ? null : (a - b) / b };
  }
  return diff;
}

/**
 * A prompt the server counted differently from what was asked. Completions prompts are exact, so
 * any difference is worth a warning. A chat template adds the same few tokens to every request,
 * so there only a deviation that varies between requests is (the tokenizer is not the model's).
 */
function promptMismatchWarning(
  aggregate: LevelAggregate,
  endpoint: "completions" | "chat",
): string | undefined {
  const d = aggregate.promptDeviation;
  if (!d || aggregate.promptTokenMismatches === 0) return undefined;
  const by = `server − requested: mean ${d.mean.toFixed(1)}, from ${d.min} to ${d.max} tokens`;
  if (endpoint === "chat") {
    if (d.min === d.max) return undefined;
    return `the server counted chat prompts ${by}: more than a fixed chat template, so prompt lengths did not follow the request (is benchmark.tokenizer the model's?).`;
  }
  return `${aggregate.promptTokenMismatches} requests had a prompt of another length by the server's count (${by}; seen ${aggregate.promptTokensSeen.join(", ")}).`;
}

/** The data-quality warnings a level deserves (docs/metrics.md). */
export function levelWarnings(
  key: string,
  aggregate: LevelAggregate,
  clients: ReadonlyArray<{ part: number; verdict: "ok" | "client_bound"; reasons: string[] }>,
  context: Pick<LevelContext, "endpoint">,
): DataWarning[] {
  const warnings: DataWarning[] = [];
  const add = (kind: DataWarning["kind"], message: string) =>
    warnings.push({ kind, level: key, message: `${key}: ${message}` });
  if (aggregate.interrupted)
    add("other", "interrupted; these numbers cover only what was measured before the stop.");
  if (aggregate.failed > 0) {
    const kinds = Object.entries(aggregate.errorsByKind)
      .map(([kind, n]) => `${kind} ${n}`)
      .join(", ");
    add("failed_requests", `${aggregate.failed} of ${aggregate.issued} requests failed (${kinds}).`);
  }
  if (aggregate.completed < aggregate.numPrompts) {
    add(
      "incomplete",
      `only ${aggregate.completed} of ${aggregate.numPrompts} requests completed (${percent(aggregate.completed, aggregate.numPrompts)}).`,
    );
  }
  for (const client of clients) {
    if (client.verdict === "client_bound") {
      add(
        "client_bound",
        `part ${client.part} was client-bound (${client.reasons.join("; ")}): the client, not the server, limited this level; do not read it as a server result.`,
      );
    }
  }
  const mismatch = promptMismatchWarning(aggregate, context.endpoint);
  if (mismatch) add("token_mismatch", mismatch);
  if (aggregate.completionTokenOverruns > 0) {
    add(
      "token_mismatch",
      `${aggregate.completionTokenOverruns} requests produced more tokens than max_tokens.`,
    );
  }
  if (aggregate.window.fallback === "no_steady_state") {
    add(
      "no_steady_state",
      "no steady state: a client issued all its requests before it had its target in flight (requests per level ≤ concurrency, no warm-up), so the rates are over the whole span, ramp-up and drain included, and steadiness is not judged.",
    );
  } else if (aggregate.window.fallback === "disjoint") {
    add(
      "windows_disjoint",
      "the parts' steady states did not overlap, so there is no shared window; the rates are over the whole span, ramp-up and drain included.",
    );
  } else {
    const short = shortWindow(aggregate);
    if (short)
      add("short_window", `${short}; use more requests per level (prompts per concurrency) or --duration.`);
  }
  return warnings;
}

/**
 * A window under MIN_WINDOW_REQUESTS median requests long: its edges cut through the requests in
 * flight, and how the waves of a closed loop shifted between the level's first and last waves
 * moves its rates by a percent or two against what the service sustains (1.1–1.9% at 32 streams of
 * 5,000-token prompts on the simulator, under 0.5% at ten requests per slot; docs/metrics.md).
 */
export const MIN_WINDOW_REQUESTS = 3;

/** Why the window is too short to stand for the level, or undefined when it is long enough. */
function shortWindow(aggregate: LevelAggregate): string | undefined {
  const { window, span } = aggregate;
  const requestSeconds = aggregate.medianRequestMs / 1000;
  if (span.seconds > 0 && window.seconds < 0.5 * span.seconds)
    return `the steady-state window (${window.seconds.toFixed(1)} s) covers only ${percent(window.seconds, span.seconds)} of the level`;
  if (requestSeconds > 0 && window.seconds < MIN_WINDOW_REQUESTS * requestSeconds)
    return `the steady-state window (${window.seconds.toFixed(1)} s) holds only ${(window.seconds / requestSeconds).toFixed(1)} median requests (${requestSeconds.toFixed(2)} s each), so its edges can move the rates by a percent or two`;
  return undefined;
}

function perSecond(count: number, seconds: number): number {
  return seconds > 0 ? count / seconds : 0;
}

function perClient(total: number, clients: number): number {
  return clients > 0 ? total / clients : 0;
}

function percent(part: number, whole: number): string {
  return whole === 0 ? "0%" : `${((100 * part) / whole).toFixed(1)}%`;
}

/** vLLM's `date`: local time as YYYYMMDD-HHMMSS. */
export function vllmDate(date: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}-${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
}
