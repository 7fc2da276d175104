/**
 * The in-memory view of benchmark results that `results`, `report` and `run` share. Readers turn
 * an experiment folder (ours, or a folder of `vllm bench serve` JSON files) into these types;
 * the report never reads files itself.
 *
 * Experiment folder layout (written by `orchestrate bench`, one per run cell):
 *
 *   EXP/experiment.json            manifest: what was run, against what, with which seeds
 *   EXP/partK/concC.json           one client's result for a level (vLLM keys + ours), also rrR.json
 *   EXP/partK/concC.records.*      that client's raw per-request records (compact)
 *   EXP/all-parts/concC.json       the aggregate over all parts (window throughput, pooled percentiles,
 *                                  and the seed's sum/average view beside it)
 *
 * With repeats (bench --repeats N, N > 1) each run of the sweep has its own folder, and the top-level
 * all-parts file combines them (mean throughputs, `repeats[]`, `output_throughput_ci95`):
 *
 *   EXP/repeatR/partK/concC.json   repeat R's per-client files (vLLM-readable, as above)
 *   EXP/repeatR/all-parts/concC.json   repeat R's own window aggregate
 *   EXP/all-parts/concC.json       the level over all repeats (docs/noise.md)
 *
 * Field names follow docs/metrics.md. Adding optional fields is fine; renaming is not.
 */

/** replay: a trace played back; the level is the speed (1 = the trace's own pace per client). */
export type LoadMode = "concurrency" | "request-rate" | "replay";

/** The percentile summary vLLM writes for ttft, tpot, itl and e2el, in milliseconds. */
export interface LatencyStats {
  mean: number;
  median: number;
  std: number;
  p50?: number;
  p90?: number;
  p95?: number;
  p99: number;
  p99_9?: number;
}

export type LatencyMetric = "ttft" | "tpot" | "itl" | "e2el";

export type WarningKind =
  | "failed_requests" // some requests failed
  | "incomplete" // completed < requested
  | "client_bound" // the client, not the server, was the bottleneck
  | "prefix_caching" // the engine ran with prefix caching on
  | "token_mismatch" // usage token counts differ from what was asked for
  | "no_steady_state" // a client never had its target in flight: rates over the whole span
  | "windows_disjoint" // the clients' steady states did not overlap: rates over the whole span
  | "short_window" // the shared steady-state window covers less than half of the level
  | "averaged_percentiles" // only per-part percentiles existed, so they were averaged (seed data)
  | "missing_part" // a part has no file for this level
  | "unsteady" // the output token rate drifted or swung during the measurement window
  | "steadiness_unjudged" // the window was too short (or too thin) to judge steadiness
  | "twin_deviation" // the measurement differs from the simulator twin's prediction by more than 20%
  | "other";

export interface DataWarning {
  kind: WarningKind;
  message: string;
  /** The level it concerns (e.g. "conc16"), when it concerns one. */
  level?: string;
}

/** How an aggregate was computed, so the report can say how much to trust it. */
export type AggregateMethod =
  | "window" // ours: throughput over the shared steady-state window, percentiles from pooled samples
  | "seed_sum"; // vLLM folders without raw samples: sums of per-part rates, means of per-part stats

export interface LevelSummary {
  /** File stem: "conc16" or "rr2" (per-client values). */
  key: string;
  mode: LoadMode;
  /** Per-client concurrency (mode "concurrency"). */
  concurrency?: number;
  /** Per-client request rate in req/s (mode "request-rate"). */
  requestRate?: number;
  /** Replay speed (mode "replay"): 1 = each client at the trace's own pace. */
  speed?: number;
  /** Number of parts (client processes) that contributed. */
  clients: number;
  numPrompts: number;
  completed: number;
  failed: number;
  /** Seconds the throughputs are divided by (the window, for method "window"). */
  durationS: number;
  requestThroughput: number;
  outputThroughput: number;
  totalTokenThroughput: number;
  /** Requests per second meeting every SLO, when SLOs were given. */
  requestGoodput?: number | null;
  /** Output tokens per second of requests meeting every SLO, when SLOs were given. */
  outputGoodput?: number | null;
  latency: Partial<Record<LatencyMetric, LatencyStats>>;
  errorsByKind: Record<string, number>;
  method: AggregateMethod;
  /** The client health verdict of the worst part. */
  clientVerdict?: "ok" | "client_bound";
  /** Tokens per SSE chunk (mean), when known. */
  tokensPerChunkMean?: number;
  /** Server-counted − requested prompt tokens per request (a chat template's tokens), when known. */
  promptTokensDeviation?: { mean: number; min: number; max: number };
  warnings: DataWarning[];
  /** The same level under the seed's arithmetic (sums and means), for comparison. */
  seedView?: Pick<
    LevelSummary,
    "requestThroughput" | "outputThroughput" | "totalTokenThroughput" | "latency"
  >;
  /** Per client: time-weighted mean of requests in flight over the window (method "window", closed loop). */
  achievedConcurrency?: number;
  /** Per client: requests sent per second over the window (method "window", open loop). */
  achievedRate?: number;
  /** The run was stopped during this level; the numbers cover what was measured before. */
  interrupted?: boolean;
  /** Repeats of this level (same key), when it was run more than once; the summary is their mean. */
  repeats?: Array<RepeatSummary>;
  /**
   * Repeats until sure: why the level stopped repeating, the relative half-width of its
   * throughput interval then, and the target it was held to.
   */
  repeatsStop?: { reason: "target_reached" | "max_reached"; ciRelative: number | null; targetCi: number };
  /** 95% Student-t interval of the mean output throughput over the repeats, as the file states it. */
  outputThroughputCi95?: [number, number];
}

/** One repeat of a level: its window throughputs and, when the file lists them, its latency percentiles. */
export type RepeatSummary = Pick<
  LevelSummary,
  "outputThroughput" | "requestThroughput" | "outputGoodput" | "requestGoodput"
> & {
  ttftP50Ms?: number;
  ttftP99Ms?: number;
  tpotP50Ms?: number;
  tpotP99Ms?: number;
  /** The repeat's latency percentiles under their vLLM keys ("p95_e2el_ms", "median_ttft_ms"), as listed. */
  percentilesMs?: Record<string, number>;
};

export interface ExperimentSummary {
  /** Absolute path of the experiment folder. */
  dir: string;
  /** Folder name, e.g. "rayoss251-x2" or "gptoss-120b-rayoss-251-x4". */
  name: string;
  /** Image label, from the manifest or the folder name ("rayoss251"). */
  image?: string;
  /** "oss" or "turbo" when known (from the plan, or guessed from the image name). */
  runtime?: "oss" | "turbo";
  /** LLM replicas, from the manifest or the folder's "-xN" suffix. */
  scale?: number;
  clients: number;
  modelId?: string;
  /** ISO time the experiment started, when known. */
  startedAt?: string;
  inputLen?: number;
  outputLen?: number;
  format: "orchestrate" | "vllm";
  levels: LevelSummary[];
  warnings: DataWarning[];
}

/**
 * What a run folder records about its setup (`RUN_DIR/setup.json`, written by `orchestrate run`),
 * so a report can say what was measured without re-reading the plan.
 *
 * Run folder layout: RUN_DIR/setup.json, plan.json (the resolved plan), journal.jsonl, state.json,
 * configs/ (rendered configs as deployed), status/ (redacted status snapshots),
 * cells/<service-name>/ (one experiment folder per image × scale), report/.
 */
export interface RunSetup {
  planName: string;
  target: "anyscale" | "local";
  toolVersion: string;
  /** What `anyscale --version` printed, for runs on Anyscale. */
  anyscaleCli?: string;
  startedAt: string;
  /** When the last cell finished measuring (written before the run's report is built). */
  finishedAt?: string;
  /** report.linearity_tolerance: E(N) within 100% ± this is "linear" (absent in older runs: 5%). */
  linearityTolerance?: number;
  /** Where it ran: host name and, for anyscale, cloud/project. */
  where: string;
  model: {
    modelId: string;
    modelSource?: string;
    acceleratorType?: string;
    tensorParallelSize: number;
    engineKwargs: Record<string, unknown>;
    prefixCaching: boolean;
    streamBatchingIntervalMs?: number;
  };
  images: Array<{ name: string; runtime: "oss" | "turbo"; base: string; env: Record<string, string> }>;
  scales: Array<{ replicas: number; clients: number; ingressReplicas: number }>;
  workload: {
    mode: LoadMode;
    levels: number[];
    /** Means, when the lengths are distributions. */
    inputTokens: number;
    outputTokens: number;
    /** The lengths as asked for, with their seed (absent in setups from before distributions). */
    lengths?: string;
    /** Absent in setups from before chat: completions. */
    endpoint?: "completions" | "chat";
    requestsPerLevel: string;
    slo?: RunSlo;
    /** The dataset or trace the requests came from, as checked before the run. */
    file?: WorkloadFileFacts;
  };
}

/** A dataset or trace file as a run used it: enough to tell whether another run used the same. */
export interface WorkloadFileFacts {
  kind: "dataset" | "trace";
  /** sharegpt, jsonl (datasets) or mooncake (traces). */
  format: string;
  path: string;
  bytes: number;
  sha256: string;
  /** Rows that give a request. */
  rows: number;
  /** Dataset rows the format's rule left out. */
  skipped?: number;
  /** Trace: first to last timestamp, ms. */
  duration_ms?: number;
  /** Mean prompt length: exact for a trace, estimated (4 characters a token) for a dataset. */
  mean_input_tokens: number;
  mean_output_tokens: number;
  max_output_tokens: number;
}

/**
 * The plan's SLO as the run recorded it: per-request limits (goodput), and the capacity criterion
 * when one was given (a percentile every limited latency is held to, or a share of requests that
 * must meet every limit), with the total rate to size replicas for.
 */
export interface RunSlo {
  ttftMs?: number;
  tpotMs?: number;
  e2elMs?: number;
  percentile?: 50 | 90 | 95 | 99;
  goodputFraction?: number;
  targetRate?: number;
}
