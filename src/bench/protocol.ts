import type { LengthSpec } from "../model/lengths.js";
import type { LoadMode } from "../model/types.js";
import type { WorkloadFileRecord } from "../workloads/workload-file.js";
import type { Slo } from "./aggregate.js";
import type { ClientTimeouts } from "./client.js";
import type { Endpoint, PromptFormat } from "./workload.js";

/**
 * Messages between the coordinator and its part processes (Node IPC). A level runs in two
 * phases so that set-up time never eats into the barrier: `prepare` (open files, build the
 * client) → every part answers `armed` → `go` with one barrier instant for all → each part
 * answers `level-done` once its files are written.
 */

export interface PartInit {
  type: "init";
  part: number;
  runId: string;
  baseUrl: string;
  /** Travels only over IPC: never in argv or the environment, which other users can read. */
  token?: string;
  /** Parts in the run: how dataset rows and trace rows are dealt (src/workloads/). */
  clients: number;
  model: string;
  inputTokens: LengthSpec;
  outputTokens: LengthSpec;
  /** Request i's lengths are drawn from this seed (the run's), the same in every part. */
  lengthSeed: number;
  endpoint: Endpoint;
  /** A dataset or a trace, checked by the coordinator; each part reads the rows it sends. */
  workloadFile?: WorkloadFileRecord;
  /** The answer length of dataset rows that give none. */
  defaultOutputTokens: number;
  promptFormat: PromptFormat;
  /**
   * Words that are one token each under the model's tokenizer, for text prompts of an exact
   * length. Checked by the coordinator, so a part never loads a tokenizer (megabytes of tables
   * whose garbage collection would pause the part's measurements).
   */
  words?: string[];
  timeouts: Partial<ClientTimeouts>;
  expDir: string;
  partSeed: number;
  burstiness: number;
  slo?: Slo;
  stopGraceMs: number;
  toolVersion: string;
}

export interface LevelSpec {
  key: string;
  mode: LoadMode;
  /** Per-client concurrency or rate. */
  value: number;
  /** Measured requests; undefined for duration runs and replays (every row of the part's share). */
  numPrompts?: number;
  durationS?: number;
  warmup: number;
  levelSeed: number;
  /** The folder this level's part files go in: the experiment folder, or a repeat's (repeatR/). */
  outDir: string;
}

export type ToPart =
  | PartInit
  | { type: "prepare"; level: LevelSpec }
  | { type: "go"; key: string; barrierEpochMs: number }
  | { type: "stop" }
  | { type: "cancel" }
  | { type: "exit" };

export interface LevelDone {
  type: "level-done";
  key: string;
  interrupted: boolean;
  completed: number;
  failed: number;
  verdict: "ok" | "client_bound";
  startSkewMs: number;
}

export type FromPart =
  | { type: "ready"; pid: number }
  | { type: "armed"; key: string }
  | { type: "progress"; key: string; done: number; failed: number; issued: number }
  | LevelDone
  | { type: "fatal"; message: string };
