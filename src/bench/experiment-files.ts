import { existsSync } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, join } from "node:path";
import { UserError } from "../errors.js";
import { writeJsonAtomic } from "../fs-atomic.js";
import { cliCommand } from "../invocation.js";
import { meanLength } from "../model/lengths.js";
import {
  ALL_PARTS_DIR,
  EXPERIMENT_MANIFEST,
  type ExperimentManifest,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  readManifest,
} from "../model/orchestrate-manifest.js";
import type { LoadMode } from "../model/types.js";
import { redact } from "../secrets.js";
import type { BenchLabels, BenchPlan } from "./options.js";

/**
 * Writing the files of an experiment folder that are not results: the manifest `experiment.json`
 * (its schema is in model/orchestrate-manifest.ts) and `pids.json` (the client processes alive
 * right now, so `orchestrate clean` can end them after a crash); the overwrite policy.
 */

export const PIDS_FILE = "pids.json";
export { ALL_PARTS_DIR };

export function writeManifest(expDir: string, manifest: ExperimentManifest): Promise<void> {
  manifest.updated_at = new Date().toISOString();
  return writeJsonAtomic(join(expDir, EXPERIMENT_MANIFEST), manifest);
}

export function newManifest(
  plan: BenchPlan,
  context: { modelId: string; seed: number; partSeeds: Record<string, number>; toolVersion: string },
  levelKey: (mode: LoadMode, value: number) => string,
): ExperimentManifest {
  const now = new Date().toISOString();
  return {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    name: basename(plan.expDir),
    tool_version: context.toolVersion,
    created_at: now,
    updated_at: now,
    status: "running",
    base_url: redact(plan.baseUrl),
    model_id: context.modelId,
    mode: plan.mode,
    clients: plan.clients,
    input_len: Math.round(meanLength(plan.inputTokens)),
    output_len: Math.round(meanLength(plan.outputTokens)),
    input_tokens: plan.inputTokens,
    output_tokens: plan.outputTokens,
    endpoint: plan.endpoint,
    num_prompts: plan.numPrompts ?? null,
    prompts_per_concurrency: plan.mode === "concurrency" ? plan.promptsPerConcurrency : null,
    duration_s: plan.durationS ?? null,
    warmup: plan.warmup,
    repeats: plan.repeats,
    repeats_target: plan.repeatsTarget
      ? { min: plan.repeatsTarget.min, target_ci: plan.repeatsTarget.targetCi }
      : null,
    burstiness: Number.isFinite(plan.burstiness) ? plan.burstiness : "inf",
    prompt_format: plan.promptFormat,
    goodput_slo: plan.goodput ? { ...plan.goodput } : null,
    seed: context.seed,
    part_seeds: context.partSeeds,
    labels: cleanLabels(plan.labels),
    host: hostname(),
    node_version: process.version,
    ...(plan.workloadRecord ? { workload_file: plan.workloadRecord } : {}),
    levels: plan.levels.map((value) => ({
      key: levelKey(plan.mode, value),
      value,
      status: "pending" as const,
      repeats_complete: 0,
    })),
  };
}

function cleanLabels(labels: BenchLabels): ExperimentManifest["labels"] {
  const out: ExperimentManifest["labels"] = {};
  if (labels.image !== undefined) out.image = labels.image;
  if (labels.runtime !== undefined) out.runtime = labels.runtime;
  if (labels.scale !== undefined) out.scale = labels.scale;
  if (labels.cell !== undefined) out.cell = labels.cell;
  return out;
}

/**
 * Where one repeat of the sweep writes its part files and its own aggregate. A sweep run once
 * keeps the layout from before repeats (`partK/`, `all-parts/` at the top, readable by any older
 * reader); with repeats every repeat gets `repeatR/partK/` and `repeatR/all-parts/`, and the
 * top-level `all-parts/KEY.json` combines them (see formats.ts, combinedRepeatsJson).
 */
export function repeatDir(expDir: string, repeat: number, repeats: number): string {
  return repeats === 1 ? expDir : join(expDir, `repeat${repeat}`);
}

const RUN_OUTPUT = /^(part\d+|repeat\d+)$/;

/** Paths of one part's files for a level (`expDir` is the repeat's folder, see repeatDir). */
export function partFiles(
  expDir: string,
  part: number,
  key: string,
): { dir: string; json: string; records: string } {
  const dir = join(expDir, `part${part}`);
  return { dir, json: join(dir, `${key}.json`), records: join(dir, `${key}.records.bin`) };
}

export function allPartsFile(expDir: string, key: string): string {
  return join(expDir, ALL_PARTS_DIR, `${key}.json`);
}

/** Whether the folder holds anything a run wrote. */
export async function holdsResults(expDir: string): Promise<boolean> {
  const entries = await readdir(expDir).catch(() => [] as string[]);
  return entries.some((e) => e === EXPERIMENT_MANIFEST || e === ALL_PARTS_DIR || RUN_OUTPUT.test(e));
}

/**
 * Gets the folder ready under the overwrite policy: `refuse` stops if results are there, `force`
 * removes what a run writes (and nothing else), `resume` keeps everything (levels decide later).
 */
export async function prepareExperimentDir(
  plan: BenchPlan,
): Promise<{ resumed: ExperimentManifest | undefined }> {
  const dir = plan.expDir;
  await mkdir(dir, { recursive: true });
  if (existsSync(join(dir, PIDS_FILE))) {
    throw new UserError(`${dir}: another benchmark may be running here (${PIDS_FILE} exists)`, {
      hint: `if it crashed, run \`${cliCommand("clean", dir)}\` first`,
    });
  }
  if (!(await holdsResults(dir))) return { resumed: undefined };
  if (plan.overwrite === "refuse") {
    throw new UserError(`${dir} already holds benchmark results`, {
      hint: "pass --force to replace them, --resume to finish the levels that did not complete, or pick another name",
    });
  }
  if (plan.overwrite === "force") {
    const entries = await readdir(dir);
    for (const entry of entries) {
      if (entry === EXPERIMENT_MANIFEST || entry === ALL_PARTS_DIR || RUN_OUTPUT.test(entry)) {
        await rm(join(dir, entry), { recursive: true, force: true });
      }
    }
    return { resumed: undefined };
  }
  if (!existsSync(join(dir, EXPERIMENT_MANIFEST))) {
    throw new UserError(`${dir}: cannot resume, there is no ${EXPERIMENT_MANIFEST}`, {
      hint: "pass --force to start over",
    });
  }
  const manifest = await readManifest(dir);
  checkResumable(manifest, plan);
  return { resumed: manifest };
}

/** A resumed run must measure the same thing, or its levels would not be comparable. */
function checkResumable(manifest: ExperimentManifest, plan: BenchPlan): void {
  const mismatches: string[] = [];
  const same = (name: string, recorded: unknown, asked: unknown) => {
    if (recorded !== asked)
      mismatches.push(`• ${name}: recorded ${String(recorded)}, asked ${String(asked)}`);
  };
  same("mode", manifest.mode, plan.mode);
  same("clients", manifest.clients, plan.clients);
  // Manifests from before distributions hold the length in input_len alone.
  const spec = (recorded: unknown, len: number) => JSON.stringify(recorded ?? len);
  same("input tokens", spec(manifest.input_tokens, manifest.input_len), JSON.stringify(plan.inputTokens));
  same("output tokens", spec(manifest.output_tokens, manifest.output_len), JSON.stringify(plan.outputTokens));
  same("endpoint", manifest.endpoint ?? "completions", plan.endpoint);
  same("requests per level", manifest.num_prompts, plan.numPrompts ?? null);
  if (manifest.prompts_per_concurrency !== undefined) {
    same(
      "requests per concurrency",
      manifest.prompts_per_concurrency,
      plan.mode === "concurrency" ? plan.promptsPerConcurrency : null,
    );
  }
  same("duration", manifest.duration_s, plan.durationS ?? null);
  same("warmup", manifest.warmup, plan.warmup);
  // The folder layout depends on whether there are repeats at all; more repeats than before is fine.
  const recordedRepeats = manifest.repeats ?? 1;
  if ((recordedRepeats === 1) !== (plan.repeats === 1)) same("repeats", recordedRepeats, plan.repeats);
  same("prompt format", manifest.prompt_format, plan.promptFormat);
  same("workload file (sha256)", manifest.workload_file?.sha256 ?? null, plan.workloadRecord?.sha256 ?? null);
  if (plan.model !== undefined) same("model", manifest.model_id, plan.model);
  if (mismatches.length > 0) {
    throw new UserError(`${plan.expDir}: cannot resume with different settings`, {
      details: mismatches,
      hint: "use the settings of the first run, or --force to start over",
    });
  }
}

/**
 * Removes one repeat's files of a level from every part and that repeat's aggregate (`dir` is the
 * repeat's folder, see repeatDir): a repeat of a level is always re-run whole.
 */
export async function removeLevelFiles(dir: string, key: string): Promise<void> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  for (const entry of entries) {
    if (!/^part\d+$/.test(entry)) continue;
    const files = await readdir(join(dir, entry)).catch(() => [] as string[]);
    for (const file of files) {
      if (file === `${key}.json` || file.startsWith(`${key}.records.bin`))
        await rm(join(dir, entry, file), { force: true });
    }
  }
  await rm(allPartsFile(dir, key), { force: true });
}

export interface PidsFile {
  coordinator_pid: number;
  started_at: string;
  parts: Array<{ part: number; pid: number }>;
}

export function writePids(expDir: string, pids: PidsFile): Promise<void> {
  return writeJsonAtomic(join(expDir, PIDS_FILE), pids);
}

export async function removePids(expDir: string): Promise<void> {
  await rm(join(expDir, PIDS_FILE), { force: true });
}
