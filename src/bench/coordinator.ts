import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { describeError, Interrupted } from "../errors.js";
import { writeJsonAtomic } from "../fs-atomic.js";
import { toolVersion } from "../paths.js";
import { levelKey } from "../results/level-key.js";
import type { ExperimentSummary, LevelSummary } from "../results/model.js";
import { readOrchestrateExperiment } from "../results/orchestrate-experiment.js";
import type { ExperimentManifest, LevelEntry } from "../results/orchestrate-manifest.js";
import { redact, registerSecret } from "../secrets.js";
import { aggregateRecordFiles } from "./aggregate.js";
import { discoverModel } from "./api.js";
import { clearStalePids } from "./clean.js";
import {
  allPartsFile,
  newManifest,
  partFiles,
  prepareExperimentDir,
  removeLevelFiles,
  writeManifest,
} from "./experiment-files.js";
import { PartFleet } from "./fleet.js";
import { allPartsResultJson, type LevelContext } from "./formats.js";
import { type BenchOptions, type BenchPlan, requestsPerLevel, resolveOptions } from "./options.js";
import type { LevelDone, LevelSpec } from "./protocol.js";
import { deriveSeed, freshSeed } from "./random.js";

/**
 * Runs a benchmark: N part processes, every level started on all of them at one barrier
 * instant, each level aggregated over the shared window into `all-parts/` before the next
 * starts. This is the programmatic API (`orchestrate bench` and the pipeline both call it).
 */

export interface BenchProgress {
  level: string;
  /** Requests finished (successful or not) across all parts, warmup included. */
  done: number;
  /** Requests planned across all parts; for duration runs, those issued so far. */
  total: number;
  failed: number;
}

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
  /** Levels run now, and levels a resumed run found complete and skipped. */
  ran: string[];
  skipped: string[];
  experiment: ExperimentSummary;
}

/** How far ahead of "now" the barrier is set, so every part has the message before it. */
const BARRIER_LEAD_MS = 250;
/** Starting a part, or setting up a level, takes well under a second; this means it hangs. */
const SETUP_TIMEOUT_MS = 60_000;

const epochNow = () => performance.timeOrigin + performance.now();

export async function runBenchmark(options: BenchOptions, hooks: BenchHooks = {}): Promise<BenchOutcome> {
  const plan = resolveOptions({ ...options, expDir: resolve(options.expDir) });
  registerSecret(plan.token);
  const signal = hooks.signal;
  if (signal?.aborted) throw new Interrupted("benchmark interrupted before it started");
  await mkdir(dirname(plan.expDir), { recursive: true });
  // A crashed run (its coordinator SIGKILLed) leaves pids.json behind; only a live one blocks us.
  await clearStalePids(plan.expDir);
  const { resumed } = await prepareExperimentDir(plan);

  const modelId = plan.model ?? resumed?.model_id ?? (await discoverModel(plan.baseUrl, plan.token, signal));
  const seed = plan.seed ?? resumed?.seed ?? freshSeed();
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
    await initParts(fleet, plan, modelId, seed, partSeeds);
    for (const value of plan.levels) {
      const entry = manifest.levels.find((l) => l.key === levelKey(plan.mode, value))!;
      if (entry.status === "complete" && existsSync(allPartsFile(plan.expDir, entry.key))) {
        skipped.push(entry.key);
        continue;
      }
      if (signal?.aborted) {
        interrupted = true;
        break;
      }
      await removeLevelFiles(plan.expDir, entry.key);
      setStatus(entry, "running");
      await writeManifest(plan.expDir, manifest);
      const outcome = await runLevel(fleet, plan, entry, partSeeds, modelId, hooks);
      if (outcome === "not-started") {
        setStatus(entry, "pending");
        interrupted = true;
        break;
      }
      setStatus(entry, outcome === "interrupted" ? "interrupted" : "complete");
      await writeManifest(plan.expDir, manifest);
      ran.push(entry.key);
      // Only a complete level is "done": an interrupted one is saved, but a resume runs it again.
      if (outcome !== "interrupted")
        hooks.onLevelDone?.(entry.key, await levelSummary(plan.expDir, entry.key));
      if (outcome === "interrupted") {
        interrupted = true;
        break;
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
): Promise<void> {
  const runId = `b${seed.toString(36)}`;
  for (const part of fleet.parts) {
    fleet.send(part, {
      type: "init",
      part,
      runId,
      baseUrl: plan.baseUrl,
      ...(plan.token ? { token: plan.token } : {}),
      model: modelId,
      inputTokens: plan.inputTokens,
      outputTokens: plan.outputTokens,
      promptFormat: plan.promptFormat,
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

async function runLevel(
  fleet: PartFleet,
  plan: BenchPlan,
  entry: LevelEntry,
  partSeeds: Record<string, number>,
  modelId: string,
  hooks: BenchHooks,
): Promise<LevelOutcome> {
  const { key, value } = entry;
  const perClient = plan.durationS === undefined ? requestsPerLevel(plan, value) : undefined;
  for (const part of fleet.parts) {
    const level: LevelSpec = {
      key,
      mode: plan.mode,
      value,
      warmup: plan.warmup,
      levelSeed: deriveSeed(partSeeds[String(part)]!, key),
      ...(perClient !== undefined ? { numPrompts: perClient } : {}),
      ...(plan.durationS !== undefined ? { durationS: plan.durationS } : {}),
    };
    fleet.send(part, { type: "prepare", level });
  }
  await fleet.waitAll("armed", key, SETUP_TIMEOUT_MS);
  if (hooks.signal?.aborted) return "not-started";

  const progress = new Map<number, { done: number; failed: number; issued: number }>();
  const planned = perClient === undefined ? undefined : (perClient + plan.warmup) * fleet.parts.length;
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
    hooks.onProgress?.({ level: key, done, failed, total: planned ?? issued });
  };
  const stop = () => fleet.broadcast({ type: "stop" });
  const cancel = () => fleet.broadcast({ type: "cancel" });
  hooks.signal?.addEventListener("abort", stop, { once: true });
  hooks.urgentSignal?.addEventListener("abort", cancel, { once: true });
  const barrierEpochMs = epochNow() + BARRIER_LEAD_MS;
  let done: Map<number, LevelDone>;
  try {
    fleet.broadcast({ type: "go", key, barrierEpochMs });
    done = (await fleet.waitAll("level-done", key)) as Map<number, LevelDone>;
  } finally {
    hooks.signal?.removeEventListener("abort", stop);
    hooks.urgentSignal?.removeEventListener("abort", cancel);
    fleet.onProgress = undefined;
  }

  await writeAllParts(plan, fleet.parts, key, value, modelId, barrierEpochMs, done);
  const stopped = hooks.signal?.aborted || [...done.values()].some((d) => d.interrupted);
  return stopped ? "interrupted" : "complete";
}

async function writeAllParts(
  plan: BenchPlan,
  parts: number[],
  key: string,
  value: number,
  modelId: string,
  barrierEpochMs: number,
  done: Map<number, LevelDone>,
): Promise<void> {
  const options = {
    inputLen: plan.inputTokens,
    outputLen: plan.outputTokens,
    ...(plan.goodput ? { slo: plan.goodput } : {}),
  };
  const aggregate = await aggregateRecordFiles(
    parts.map((part) => partFiles(plan.expDir, part, key).records),
    options,
  );
  const partJsons = [];
  for (const part of parts) {
    const json = JSON.parse(await readFile(partFiles(plan.expDir, part, key).json, "utf8")) as Record<
      string,
      unknown
    >;
    partJsons.push({ part, json });
  }
  const context: LevelContext = {
    key,
    mode: plan.mode,
    target: value,
    modelId,
    inputLen: plan.inputTokens,
    outputLen: plan.outputTokens,
    burstiness: plan.burstiness,
    startedAtEpochMs: barrierEpochMs,
    toolVersion: toolVersion(),
    ...(plan.goodput ? { slo: plan.goodput } : {}),
  };
  const json = allPartsResultJson(aggregate, context, partJsons);
  json.barrier_epoch_ms = barrierEpochMs;
  json.start_skew_ms = Object.fromEntries([...done].map(([part, d]) => [String(part), d.startSkewMs]));
  await mkdir(dirname(allPartsFile(plan.expDir, key)), { recursive: true });
  await writeJsonAtomic(allPartsFile(plan.expDir, key), json);
}

/** A resumed run keeps the levels it has and adds the ones asked for now. */
function withLevels(manifest: ExperimentManifest, plan: BenchPlan): ExperimentManifest {
  for (const value of plan.levels) {
    const key = levelKey(plan.mode, value);
    if (!manifest.levels.some((l) => l.key === key)) manifest.levels.push({ key, value, status: "pending" });
  }
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

async function levelSummary(expDir: string, key: string): Promise<LevelSummary | undefined> {
  const experiment = await readOrchestrateExperiment(expDir).catch(() => undefined);
  return experiment?.levels.find((l) => l.key === key);
}
