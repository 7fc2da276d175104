import type { BenchProgress } from "../bench/progress.js";
import type { LengthSpec } from "../model/lengths.js";
import type { LoadMode } from "../model/types.js";
import type { ServiceEndpoint, ServiceIdentity, Target } from "../targets/target.js";
import type { WorkloadFileSpec } from "../workloads/workload-file.js";

/**
 * What the pipeline needs from the rest of the world, as small interfaces: the target that runs
 * services, the readiness probe, the load generator and the report. run-command.ts wires the real
 * ones; tests hand in their own.
 */

export interface BuildingTarget extends Target {
  /** Builds an image once and returns its URI (only targets that build images have this). */
  buildImage?(
    image: { name: string; ray_version: string },
    containerfile: string,
    signal?: AbortSignal,
  ): Promise<string>;
  /**
   * Sends terminate without confirming it (a second Ctrl-C). With `owner`, a service under this
   * name that is not that one is left alone (rejects with NotOurService).
   */
  sendTerminate?(name: string, options?: { owner?: ServiceIdentity }): Promise<void>;
  /** What the server itself measured (the simulator's ground truth), where a target can tell. */
  serverStats?(name: string): Promise<unknown>;
  /** Stops every service this process started (local services die with their orchestrator). */
  terminateAll?(): Promise<void>;
}

export interface ReadinessProbe {
  /** GET /v1/models lists the model, and one streamed completion succeeds; else it throws. */
  check(endpoint: ServiceEndpoint, modelId: string, signal?: AbortSignal): Promise<string>;
}

export type { BenchProgress } from "../bench/progress.js";

export interface BenchRequest {
  endpoint: ServiceEndpoint;
  modelId: string;
  expDir: string;
  clients: number;
  mode: LoadMode;
  levels: number[];
  inputTokens: LengthSpec;
  outputTokens: LengthSpec;
  /** completions or chat (whose prompts are sized with `tokenizer`). */
  apiEndpoint: "completions" | "chat";
  tokenizer?: "o200k_harmony" | "o200k_base" | "cl100k_base";
  promptsPerConcurrency: number;
  numPrompts: number;
  durationS?: number;
  /** Warm-up requests per client per level; absent = one wave (the level's concurrency). */
  warmup?: number;
  /** Runs of the whole sweep (with a target: the most a level runs). */
  repeats: number;
  /** Repeats until sure: a level stops once its throughput interval is within ±targetCi. */
  repeatsTarget?: { min: number; targetCi: number };
  arrival: "poisson" | "gamma" | "constant";
  burstiness: number;
  seed?: number;
  /** The seed of request lengths, shared by every cell of the run. */
  lengthSeed: number;
  promptFormat: "token-ids" | "text";
  /** A dataset or the trace a replay plays (the path resolved against the plan's folder). */
  workloadFile?: WorkloadFileSpec;
  maxModelLen?: number;
  requestTimeoutS: number;
  slo?: { ttftMs?: number; tpotMs?: number; e2elMs?: number };
  labels: { image: string; runtime: "oss" | "turbo"; scale: number; cell: string };
}

export interface BenchRunner {
  /**
   * Runs every level not yet complete in expDir (complete levels are never re-run; a half-done
   * level is re-run whole), calling onLevelDone after each. Rejects with Interrupted when the
   * signal aborts, after saving what was measured.
   */
  run(
    request: BenchRequest,
    hooks: {
      signal?: AbortSignal;
      /** Aborted on a second Ctrl-C: cancel the requests in flight at once. */
      urgentSignal?: AbortSignal;
      onProgress?: (p: BenchProgress) => void;
      onLevelDone?: (level: string) => void;
    },
  ): Promise<void>;
}

export interface ReportBuilder {
  /** Builds the report of a run folder: the folder it wrote, and the answer for the terminal. */
  build(runDir: string): Promise<BuiltReport>;
}

export interface BuiltReport {
  dir: string;
  /** The verdict tables as plain text (E(N) per level, OSS vs Turbo per scale), printed when a run ends. */
  answer: string;
}
