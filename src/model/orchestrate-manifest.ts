import { join } from "node:path";
import { z } from "zod";
import { UserError } from "../errors.js";
import { readJsonFile } from "../json-file.js";

/**
 * The manifest `orchestrate bench` writes at the top of each experiment folder: what was run,
 * against what, with which seeds, under which labels, and how far each level got. Written by
 * src/bench/experiment-files.ts, read here (and by model/orchestrate-experiment.ts).
 */

export const EXPERIMENT_MANIFEST = "experiment.json";
export const ALL_PARTS_DIR = "all-parts";
export const MANIFEST_FORMAT = "orchestrate-experiment";
export const MANIFEST_VERSION = 1;

export type LevelStatus = "pending" | "running" | "complete" | "interrupted" | "failed";

const levelEntrySchema = z.object({
  key: z.string(),
  value: z.number(),
  status: z.enum(["pending", "running", "complete", "interrupted", "failed"]),
  started_at: z.string().optional(),
  finished_at: z.string().optional(),
  /** Repeats of this level finished so far (absent in manifests written before repeats: 1). */
  repeats_complete: z.number().int().nonnegative().optional(),
  /** Repeats until sure: why this level stopped repeating (absent: not stopped, or a fixed count). */
  repeats_stop: z
    .object({
      reason: z.enum(["target_reached", "max_reached"]),
      ci_relative: z.number().nullable(),
    })
    .optional(),
});

/** A dataset or trace as a run read it (model/types.ts WorkloadFileFacts). */
export const workloadFileSchema = z.object({
  kind: z.enum(["dataset", "trace"]),
  format: z.string(),
  path: z.string(),
  bytes: z.number(),
  sha256: z.string(),
  rows: z.number(),
  skipped: z.number().optional(),
  duration_ms: z.number().optional(),
  mean_input_tokens: z.number(),
  mean_output_tokens: z.number(),
  max_output_tokens: z.number(),
});

export const manifestSchema = z.looseObject({
  format: z.literal(MANIFEST_FORMAT),
  version: z.number(),
  name: z.string(),
  tool_version: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  status: z.enum(["running", "complete", "interrupted", "failed"]),
  error: z.string().optional(),
  base_url: z.string(),
  model_id: z.string().nullable(),
  mode: z.enum(["concurrency", "request-rate", "replay"]),
  clients: z.number().int().positive(),
  input_len: z.number().int(),
  output_len: z.number().int(),
  /** The lengths asked for, a number or a distribution (bench/lengths.ts); absent before them. */
  input_tokens: z.unknown().optional(),
  output_tokens: z.unknown().optional(),
  /** Absent in manifests written before chat (then completions). */
  endpoint: z.enum(["completions", "chat"]).optional(),
  num_prompts: z.number().int().nullable(),
  /** Absent in manifests written before it existed (then 10, the seed's rule). */
  prompts_per_concurrency: z.number().int().nullable().optional(),
  duration_s: z.number().nullable(),
  /** Warm-up requests per client per level, or "one-wave" (the level's concurrency). */
  warmup: z.union([z.number().int(), z.literal("one-wave")]),
  /** How often the whole sweep runs; absent in manifests written before repeats (then 1). */
  repeats: z.number().int().positive().optional(),
  /** Repeats until sure: the rule the run followed (absent: every level runs `repeats` times). */
  repeats_target: z.object({ min: z.number().int(), target_ci: z.number() }).nullable().optional(),
  burstiness: z.union([z.number(), z.literal("inf")]),
  prompt_format: z.enum(["token-ids", "text"]),
  goodput_slo: z.record(z.string(), z.number()).nullable(),
  seed: z.number().int(),
  part_seeds: z.record(z.string(), z.number()),
  labels: z.object({
    image: z.string().optional(),
    runtime: z.enum(["oss", "turbo"]).optional(),
    scale: z.number().optional(),
    cell: z.string().optional(),
  }),
  host: z.string(),
  node_version: z.string(),
  levels: z.array(levelEntrySchema),
  /** The dataset or trace the requests came from (absent: synthetic prompts). */
  workload_file: workloadFileSchema.optional(),
});

export type ExperimentManifest = z.infer<typeof manifestSchema>;
export type LevelEntry = z.infer<typeof levelEntrySchema>;

export async function readManifest(expDir: string): Promise<ExperimentManifest> {
  const path = join(expDir, EXPERIMENT_MANIFEST);
  const manifest = await readJsonFile(path, manifestSchema, "an orchestrate experiment manifest");
  if (manifest.version !== MANIFEST_VERSION) {
    throw new UserError(
      `${path}: manifest version ${manifest.version}, this orchestrate reads ${MANIFEST_VERSION}`,
    );
  }
  return manifest;
}
