import { existsSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { epochOfMonotonicZero } from "../clock.js";
import { describeError, Interrupted, UserError } from "../errors.js";
import { writeJsonAtomic } from "../fs-atomic.js";
import { levelKey } from "../model/level-key.js";
import { readLevelFile, readOrchestrateExperiment } from "../model/orchestrate-experiment.js";
import { type ExperimentManifest, type LevelEntry, readManifest } from "../model/orchestrate-manifest.js";
import { TOKENIZERS, type TokenizerName, tokenizerFor } from "../model/tokenizers.js";
import type { ExperimentSummary, LevelSummary } from "../model/types.js";
import { toolVersion } from "../paths.js";
import { deriveSeed, freshSeed } from "../random.js";
import { redact, registerSecret } from "../secrets.js";
import type { WorkloadFileRecord } from "../workloads/workload-file.js";
import { aggregateRecordFiles, type RequestedLengths } from "./aggregate.js";
import { discoverModel } from "./api.js";
import { clearStalePids } from "./clean.js";
import { combinedRepeatsJson, type RepeatResult } from "./combine-repeats.js";
import {
  allPartsFile,
  newManifest,
  partFiles,
  prepareExperimentDir,
  removeLevelFiles,
  repeatDir,
  writeManifest,
} from "./experiment-files.js";
import { PartFleet } from "./fleet.js";
import { allPartsResultJson, type LevelContext } from "./formats.js";
import {
  type BenchOptions,
  type BenchPlan,
  requestsPerLevel,
  resolveOptions,
  warmupPerLevel,
  withWorkloadFile,
} from "./options.js";
import type { BenchProgress } from "./progress.js";
import { oneTokenWords } from "./prompt-words.js";
import type { LevelDone, LevelSpec } from "./protocol.js";
import { repeatsStop } from "./repeats-target.js";
import { lengthSource } from "./workload.js";

/**
 * Runs a benchmark: N part processes, every level started on all of them at one barrier
 * instant, each level aggregated over the shared window into `all-parts/` before the next
 * starts. This is the programmatic API (`orchestrate bench` and the pipeline both call it).
 */

export type { BenchProgress };

export interface BenchHooks {
  /** The first abort is a graceful stop: no new requests, a brief wait, results written. */
  signal?: AbortSignal;
  /** Aborted (a second Ctrl-C): cancel the requests in flight at once instead of waiting. */
  urgentSignal?: AbortSignal;
  onProgress?: (progress: BenchProgress) => void;
  onLevelDone?: (level: string, summary: LevelSummary | undefined) => void;
}

export interface BenchOutcome {
  expDir: string;
  modelId: string;
  seed: number;
  /**
   * Levels run now, and levels a resumed run found complete and skipped: "conc16", or with
   * repeats "repeat2/conc16".
   */
  ran: string[];
  skipped: string[];
  experiment: ExperimentSummary;
}

/** How far ahead of "now" the barrier is set, so every part has the message before it. */
const BARRIER_LEAD_MS = 250;
/** Starting a part, or setting up a level, takes well under a second; this means it hangs. */
const SETUP_TIMEOUT_MS = 60_000;

export async function runBenchmark(options: BenchOptions, hooks: BenchHooks = {}): Promise<BenchOutcome> {
  const plan = await withWorkloadFile(resolveOptions({ ...options, expDir: resolve(options.expDir) }));
  registerSecret(plan.token);
  const signal = hooks.signal;
  if (signal?.aborted) throw new Interrupted("benchmark interrupted before it started");
  await mkdir(dirname(plan.expDir), { recursive: true });
  // A crashed run (its coordinator SIGKILLed) leaves pids.json behind; only a live one blocks us.
  await clearStalePids(plan.expDir);
  const { resumed } = await prepareExperimentDir(plan);

  const modelId = plan.model ?? resumed?.model_id ?? (await discoverModel(plan.baseUrl, plan.token, signal));
  const seed = plan.seed ?? resumed?.seed ?? freshSeed();
  const tokenizer = textTokenizer(plan, modelId);
  const partSeeds: Record<string, number> = {};
  for (let part = 1; part <= plan.clients; part++) partSeeds[String(part)] = deriveSeed(seed, `part${part}`);
  const manifest = resumed
    ? withLevels(resumed, plan)
    : newManifest(plan, { modelId, seed, partSeeds, toolVersion: toolVersion() }, levelKey);
  manifest.status = "running";
  delete manifest.error;
  await writeManifest(plan.expDir, manifest);

  const ran: string[] = [];
  const skipped: string[] = [];
  let interrupted = false;
  const fleet = await PartFleet.start(plan.expDir, plan.clients);
  try {
    await initParts(fleet, plan, modelId, seed, partSeeds, tokenizer);
    // The whole sweep, then again: a slow drift of the service spreads over every level instead
    // of landing on the levels that happened to run last.
    sweeps: for (let repeat = 1; repeat <= plan.repeats; repeat++) {
      for (const value of plan.levels) {
        const entry = manifest.levels.find((l) => l.key === levelKey(plan.mode, value))!;
        const run: RepeatRun = { entry, repeat, dir: repeatDir(plan.expDir, repeat, plan.repeats) };
        const label = runLabel(plan, run);
        // Sure already (or at its most): a level that stopped repeating is not run again.
        if (entry.repeats_stop) continue;
        if (repeatsDone(entry, plan.repeats) >= repeat && existsSync(allPartsFile(run.dir, entry.key))) {
          skipped.push(label);
          continue;
        }
        if (signal?.aborted) {
          interrupted = true;
          break sweeps;
        }
        await removeLevelFiles(run.dir, entry.key);
        setStatus(entry, "running");
        await writeManifest(plan.expDir, manifest);
        const outcome = await runLevel(fleet, plan, run, label, partSeeds, modelId, seed, hooks);
        if (outcome === "not-started") {
          // Nothing of this repeat ran; finished repeats stay counted in repeats_complete.
          setStatus(entry, "pending");
          interrupted = true;
          break sweeps;
        }
        if (outcome === "complete") entry.repeats_complete = repeat;
        if (plan.repeats > 1) await writeCombined(plan, entry, modelId, seed);
        if (outcome === "complete" && plan.repeatsTarget) {
          const combined = JSON.parse(await readFile(allPartsFile(plan.expDir, entry.key), "utf8"));
          const stop = repeatsStop(repeat, plan.repeats, plan.repeatsTarget, combined);
          if (stop) entry.repeats_stop = stop;
        }
        setStatus(
          entry,
          outcome === "interrupted"
            ? "interrupted"
            : repeat === plan.repeats || entry.repeats_stop
              ? "complete"
              : "pending",
        );
        await writeManifest(plan.expDir, manifest);
        ran.push(label);
        // Only a complete repeat is "done": an interrupted one is saved, but a resume runs it again.
        if (outcome === "interrupted") {
          interrupted = true;
          break sweeps;
        }
        hooks.onLevelDone?.(label, await repeatSummary(plan.expDir, run));
      }
    }
  } catch (error) {
    for (const level of manifest.levels) if (level.status === "running") setStatus(level, "failed");
    manifest.status = "failed";
    manifest.error = redact(describeError(error));
    await writeManifest(plan.expDir, manifest).catch(() => {});
    throw error;
  } finally {
    await fleet.shutdown();
  }

  manifest.status = interrupted ? "interrupted" : "complete";
  await writeManifest(plan.expDir, manifest);
  if (interrupted) {
    throw new Interrupted(`benchmark stopped; what was measured is in ${plan.expDir} (--resume continues)`);
  }
  return {
    expDir: plan.expDir,
    modelId,
    seed,
    ran,
    skipped,
    experiment: await readOrchestrateExperiment(plan.expDir),
  };
}

async function initParts(
  fleet: PartFleet,
  plan: BenchPlan,
  modelId: string,
  seed: number,
  partSeeds: Record<string, number>,
  tokenizer: TokenizerName | undefined,
): Promise<void> {
  // Token-id prompts need no words; loading a tokenizer for them would only cost time.
  const words = tokenizer && plan.promptFormat === "text" ? await oneTokenWords(tokenizer) : undefined;
  const runId = `b${seed.toString(36)}`;
  for (const part of fleet.parts) {
    fleet.send(part, {
      type: "init",
      part,
      runId,
      baseUrl: plan.baseUrl,
      ...(plan.token ? { token: plan.token } : {}),
      clients: plan.clients,
      model: modelId,
      inputTokens: plan.inputTokens,
      outputTokens: plan.outputTokens,
      lengthSeed: lengthSeedOf(plan, seed),
      endpoint: plan.endpoint,
      ...(plan.workloadRecord ? { workloadFile: plan.workloadRecord } : {}),
      defaultOutputTokens: plan.defaultOutputTokens,
      promptFormat: plan.promptFormat,
      ...(words ? { words } : {}),
      timeouts: plan.timeouts,
      expDir: plan.expDir,
      partSeed: partSeeds[String(part)]!,
      burstiness: plan.burstiness,
      ...(plan.goodput ? { slo: plan.goodput } : {}),
      stopGraceMs: plan.stopGraceMs,
      toolVersion: toolVersion(),
    });
  }
  await fleet.waitAll("ready", undefined, SETUP_TIMEOUT_MS);
}

type LevelOutcome = "complete" | "interrupted" | "not-started";

/** One repeat of one level, and the folder its files go in. */
interface RepeatRun {
  entry: LevelEntry;
  repeat: number;
  dir: string;
}

/** "conc16" when the sweep runs once, "repeat2/conc16" with repeats (the file's place on disk). */
function runLabel(plan: BenchPlan, run: RepeatRun): string {
  return plan.repeats === 1 ? run.entry.key : `repeat${run.repeat}/${run.entry.key}`;
}

/**
 * Repeats of a level finished. A sweep run once goes by the level's status alone (manifests from
 * before repeats have nothing else); with repeats, by the count of finished repeats.
 */
function repeatsDone(entry: LevelEntry, repeats: number): number {
  if (repeats === 1) return entry.status === "complete" ? 1 : 0;
  return entry.repeats_complete ?? 0;
}

/** Prompts differ per repeat (a repeat re-measures the server, not the same request stream). */
function levelSeedFor(partSeed: number, key: string, repeat: number): number {
  return deriveSeed(partSeed, repeat === 1 ? key : `${key}/repeat${repeat}`);
}

async function runLevel(
  fleet: PartFleet,
  plan: BenchPlan,
  run: RepeatRun,
  label: string,
  partSeeds: Record<string, number>,
  modelId: string,
  seed: number,
  hooks: BenchHooks,
): Promise<LevelOutcome> {
  const { key, value } = run.entry;
  // A replay sends its share of the trace, however many rows that is.
  const perClient =
    plan.durationS === undefined && plan.mode !== "replay" ? requestsPerLevel(plan, value) : undefined;
  const warmup = warmupPerLevel(plan, value);
  for (const part of fleet.parts) {
    const level: LevelSpec = {
      key,
      mode: plan.mode,
      value,
      warmup,
      levelSeed: levelSeedFor(partSeeds[String(part)]!, key, run.repeat),
      outDir: run.dir,
      ...(perClient !== undefined ? { numPrompts: perClient } : {}),
      ...(plan.durationS !== undefined ? { durationS: plan.durationS } : {}),
    };
    fleet.send(part, { type: "prepare", level });
  }
  await fleet.waitAll("armed", key, SETUP_TIMEOUT_MS);
  if (hooks.signal?.aborted) return "not-started";

  const progress = new Map<number, { done: number; failed: number; issued: number }>();
  const planned =
    plan.mode === "replay"
      ? plan.workloadRecord?.rows
      : perClient === undefined
        ? undefined
        : (perClient + warmup) * fleet.parts.length;
  const barrierEpochMs = epochOfMonotonicZero() + performance.now() + BARRIER_LEAD_MS;
  const place = {
    position: plan.levels.indexOf(value) + 1,
    levels: plan.levels.length,
    repeat: run.repeat,
    repeats: plan.repeats,
    startedAtMs: barrierEpochMs,
    ...(plan.durationS !== undefined ? { durationS: plan.durationS } : {}),
  };
  fleet.onProgress = (part, message) => {
    if (message.key !== key) return;
    progress.set(part, message);
    let done = 0;
    let failed = 0;
    let issued = 0;
    for (const p of progress.values()) {
      done += p.done;
      failed += p.failed;
      issued += p.issued;
    }
    hooks.onProgress?.({ level: label, done, failed, total: planned ?? issued, ...place });
  };
  const stop = () => fleet.broadcast({ type: "stop" });
  const cancel = () => fleet.broadcast({ type: "cancel" });
  hooks.signal?.addEventListener("abort", stop, { once: true });
  hooks.urgentSignal?.addEventListener("abort", cancel, { once: true });
  let done: Map<number, LevelDone>;
  try {
    fleet.broadcast({ type: "go", key, barrierEpochMs });
    done = (await fleet.waitAll("level-done", key)) as Map<number, LevelDone>;
  } finally {
    hooks.signal?.removeEventListener("abort", stop);
    hooks.urgentSignal?.removeEventListener("abort", cancel);
    fleet.onProgress = undefined;
  }

  await writeAllParts(plan, run.dir, fleet.parts, key, value, modelId, seed, barrierEpochMs, done);
  const stopped = hooks.signal?.aborted || [...done.values()].some((d) => d.interrupted);
  return stopped ? "interrupted" : "complete";
}

function levelContext(
  plan: BenchPlan,
  key: string,
  value: number,
  modelId: string,
  seed: number,
  startedAt: number,
) {
  const context: LevelContext = {
    key,
    mode: plan.mode,
    target: value,
    modelId,
    inputTokens: plan.inputTokens,
    outputTokens: plan.outputTokens,
    lengthSeed: lengthSeedOf(plan, seed),
    endpoint: plan.endpoint,
    burstiness: plan.burstiness,
    startedAtEpochMs: startedAt,
    toolVersion: toolVersion(),
    ...(plan.goodput ? { slo: plan.goodput } : {}),
  };
  return context;
}

function aggregateOptions(plan: BenchPlan, seed: number) {
  return {
    requested: plan.workloadRecord
      ? fileRowBounds(plan.workloadRecord)
      : lengthSource(plan.inputTokens, plan.outputTokens, lengthSeedOf(plan, seed)),
    ...(plan.goodput ? { slo: plan.goodput } : {}),
  };
}

/**
 * A dataset's or a trace's rows are dealt across the parts, so the merged level knows only the
 * rows' mean prompt and longest answer (each part checks its own answers' lengths exactly).
 */
function fileRowBounds(file: WorkloadFileRecord): () => RequestedLengths {
  const bounds = {
    inputTokens: file.mean_input_tokens,
    outputTokens: file.max_output_tokens,
    promptLengthEstimated: true,
  };
  return () => bounds;
}

/**
 * Request lengths come from the run's seed alone, not a part's or a level's: request i asks for
 * the same lengths in every client, level and repeat, so scales are compared on the same work.
 */
function lengthSeedOf(plan: BenchPlan, seed: number): number {
  return plan.lengthSeed ?? deriveSeed(seed, "lengths");
}

/**
 * The tokenizer text prompts are sized with. Chat prompts are text, and a length the server
 * would count differently is not a benchmark of that length: without a known tokenizer, refuse.
 */
function textTokenizer(plan: BenchPlan, modelId: string): TokenizerName | undefined {
  const tokenizer = tokenizerFor(modelId, plan.tokenizer);
  // A dataset brings its own prompt text; only generated text has to be sized.
  const generatesText = plan.workloadFile?.kind !== "dataset";
  if (plan.endpoint === "chat" && generatesText && !tokenizer) {
    throw new UserError(`chat prompts of a set token length need the tokenizer of ${modelId}`, {
      hint: `name it: benchmark.tokenizer in a plan, --tokenizer for bench (${TOKENIZERS.join(", ")}; gpt-oss models use o200k_harmony and need none)`,
    });
  }
  return tokenizer;
}

/** The aggregate of one repeat of a level, into `dir/all-parts/` (dir: the repeat's folder). */
async function writeAllParts(
  plan: BenchPlan,
  dir: string,
  parts: number[],
  key: string,
  value: number,
  modelId: string,
  seed: number,
  barrierEpochMs: number,
  done: Map<number, LevelDone>,
): Promise<void> {
  const aggregate = await aggregateRecordFiles(
    parts.map((part) => partFiles(dir, part, key).records),
    aggregateOptions(plan, seed),
  );
  const partJsons = [];
  for (const part of parts) {
    const json = JSON.parse(await readFile(partFiles(dir, part, key).json, "utf8")) as Record<
      string,
      unknown
    >;
    partJsons.push({ part, json });
  }
  const context = levelContext(plan, key, value, modelId, seed, barrierEpochMs);
  const json = allPartsResultJson(aggregate, context, partJsons);
  json.barrier_epoch_ms = barrierEpochMs;
  json.start_skew_ms = Object.fromEntries([...done].map(([part, d]) => [String(part), d.startSkewMs]));
  // Distinct rows of the dataset or trace this level sent (its requests, warm-up included, walk
  // the rows in order; past the last one they start over).
  if (plan.workloadRecord)
    json.workload_rows_used = Math.min(plan.workloadRecord.rows, aggregate.issued + aggregate.warmupRequests);
  await mkdir(dirname(allPartsFile(dir, key)), { recursive: true });
  await writeJsonAtomic(allPartsFile(dir, key), json);
}

/**
 * The level's top-level `all-parts/KEY.json` over the repeats finished so far (rewritten after
 * each one, so an interrupted run still shows what it measured).
 */
async function writeCombined(
  plan: BenchPlan,
  entry: LevelEntry,
  modelId: string,
  seed: number,
): Promise<void> {
  const repeats: RepeatResult[] = [];
  const records: string[] = [];
  for (let repeat = 1; repeat <= plan.repeats; repeat++) {
    const dir = repeatDir(plan.expDir, repeat, plan.repeats);
    const path = allPartsFile(dir, entry.key);
    if (!existsSync(path)) continue;
    const json = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
    // An interrupted repeat is kept on disk but is not one of the level's measurements.
    if (json.interrupted === true) continue;
    repeats.push({ repeat, json });
    for (let part = 1; part <= plan.clients; part++) records.push(partFiles(dir, part, entry.key).records);
  }
  const combinedPath = allPartsFile(plan.expDir, entry.key);
  if (repeats.length === 0) {
    await rm(combinedPath, { force: true });
    return;
  }
  const pooled = await aggregateRecordFiles(records, aggregateOptions(plan, seed));
  const first = repeats[0]!.json;
  const startedAt = typeof first.barrier_epoch_ms === "number" ? first.barrier_epoch_ms : Date.now();
  const json = combinedRepeatsJson(
    pooled,
    levelContext(plan, entry.key, entry.value, modelId, seed, startedAt),
    repeats,
  );
  await mkdir(dirname(combinedPath), { recursive: true });
  await writeJsonAtomic(combinedPath, json);
}

/** A resumed run keeps the levels it has and adds the ones asked for now. */
function withLevels(manifest: ExperimentManifest, plan: BenchPlan): ExperimentManifest {
  for (const value of plan.levels) {
    const key = levelKey(plan.mode, value);
    if (!manifest.levels.some((l) => l.key === key))
      manifest.levels.push({ key, value, status: "pending", repeats_complete: 0 });
  }
  // A level that stopped only because it reached the old maximum goes on when a resume allows more.
  for (const level of manifest.levels) {
    if (level.repeats_stop?.reason === "max_reached" && (level.repeats_complete ?? 0) < plan.repeats) {
      delete level.repeats_stop;
      level.status = "pending";
    }
  }
  manifest.repeats = plan.repeats;
  manifest.repeats_target = plan.repeatsTarget
    ? { min: plan.repeatsTarget.min, target_ci: plan.repeatsTarget.targetCi }
    : null;
  manifest.labels = { ...manifest.labels, ...plan.labels };
  return manifest;
}

function setStatus(entry: LevelEntry, status: LevelEntry["status"]): void {
  entry.status = status;
  const now = new Date().toISOString();
  if (status === "running") {
    entry.started_at = now;
    delete entry.finished_at;
  } else if (status !== "pending") {
    entry.finished_at = now;
  }
}

/** What one repeat of a level measured (its own aggregate, not the mean over repeats). */
async function repeatSummary(expDir: string, run: RepeatRun): Promise<LevelSummary | undefined> {
  const manifest = await readManifest(expDir).catch(() => undefined);
  if (!manifest) return undefined;
  return readLevelFile(allPartsFile(run.dir, run.entry.key), run.entry.key, manifest).catch(() => undefined);
}
