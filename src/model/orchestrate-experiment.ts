import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { compareLevels, parseLevelKey } from "./level-key.js";
import { ALL_PARTS_DIR, type ExperimentManifest, readManifest } from "./orchestrate-manifest.js";
import type { DataWarning, ExperimentSummary, LatencyMetric, LatencyStats, LevelSummary } from "./types.js";
import { imageAndScaleFromName, runtimeFromName } from "./vllm-experiment.js";
import { latencyFromVllm, readVllmResult } from "./vllm-format.js";

/**
 * Reads an experiment folder written by `orchestrate bench`: the manifest, and each level's
 * `all-parts/KEY.json` (the window aggregate with pooled percentiles, and the seed's view
 * beside it). Levels that did not finish are named in the experiment's warnings.
 */

const LATENCY_METRICS: LatencyMetric[] = ["ttft", "tpot", "itl", "e2el"];

export async function readOrchestrateExperiment(dirArg: string): Promise<ExperimentSummary> {
  const dir = resolve(dirArg);
  const manifest = await readManifest(dir);
  const levels: LevelSummary[] = [];
  const experimentWarnings: DataWarning[] = [];
  const entries = manifest.levels
    .map((entry) => ({ entry, id: parseLevelKey(entry.key) }))
    .filter(
      (e): e is { entry: (typeof manifest.levels)[number]; id: NonNullable<typeof e.id> } =>
        e.id !== undefined,
    )
    .sort((a, b) => compareLevels(a.id, b.id));
  for (const { entry } of entries) {
    const path = join(dir, ALL_PARTS_DIR, `${entry.key}.json`);
    if (existsSync(path)) {
      const level = await readLevelFile(path, entry.key, manifest);
      if (entry.repeats_stop && manifest.repeats_target) {
        level.repeatsStop = {
          reason: entry.repeats_stop.reason,
          ciRelative: entry.repeats_stop.ci_relative,
          targetCi: manifest.repeats_target.target_ci,
        };
      }
      levels.push(level);
    } else if (entry.status !== "complete") {
      experimentWarnings.push({
        kind: "missing_part",
        level: entry.key,
        message: `${entry.key}: ${entry.status === "pending" ? "not run" : entry.status}; no results for this level.`,
      });
    } else {
      experimentWarnings.push({
        kind: "other",
        level: entry.key,
        message: `${entry.key}: marked complete but ${ALL_PARTS_DIR}/${entry.key}.json is missing.`,
      });
    }
  }
  if (manifest.status !== "complete") {
    experimentWarnings.unshift({
      kind: "other",
      message: `the run ${manifest.status === "running" ? "is running or crashed" : `was ${manifest.status}`}${manifest.error ? ` (${manifest.error})` : ""}.`,
    });
  }

  const name = basename(dir);
  const fromName = imageAndScaleFromName(name);
  const summary: ExperimentSummary = {
    dir,
    name,
    clients: manifest.clients,
    format: "orchestrate",
    levels,
    warnings: [...experimentWarnings, ...levels.flatMap((l) => l.warnings)],
    startedAt: manifest.created_at,
    inputLen: manifest.input_len,
    outputLen: manifest.output_len,
  };
  const image = manifest.labels.image ?? fromName.image;
  if (image !== undefined) summary.image = image;
  const runtime = manifest.labels.runtime ?? runtimeFromName(image ?? name);
  if (runtime !== undefined) summary.runtime = runtime;
  const scale = manifest.labels.scale ?? fromName.scale;
  if (scale !== undefined) summary.scale = scale;
  if (manifest.model_id) summary.modelId = manifest.model_id;
  return summary;
}

/** One level's all-parts file (the combined one, or a single repeat's `repeatR/all-parts/`). */
export async function readLevelFile(
  path: string,
  key: string,
  manifest: ExperimentManifest,
): Promise<LevelSummary> {
  const json = (await readVllmResult(path)) as Record<string, unknown> &
    Awaited<ReturnType<typeof readVllmResult>>;
  const id = parseLevelKey(key)!;
  const latency: Partial<Record<LatencyMetric, LatencyStats>> = {};
  for (const metric of LATENCY_METRICS) {
    const stats = latencyFromVllm(json, metric);
    if (stats) latency[metric] = stats;
  }
  const num = (k: string) => (typeof json[k] === "number" ? (json[k] as number) : undefined);
  const level: LevelSummary = {
    key,
    mode: id.mode,
    // Files written before the repeats fix say `parts: 0` in the combined file: a level always had
    // at least one client, so zero means "not recorded" and the manifest knows.
    clients: num("parts") || manifest.clients,
    numPrompts: json.num_prompts,
    completed: json.completed,
    failed: json.failed ?? json.num_prompts - json.completed,
    durationS: json.duration,
    requestThroughput: json.request_throughput,
    outputThroughput: json.output_throughput,
    totalTokenThroughput: json.total_token_throughput ?? 0,
    requestGoodput: json.request_goodput ?? null,
    outputGoodput: num("output_goodput") ?? null,
    latency,
    errorsByKind: isNumberRecord(json.errors_by_kind) ? json.errors_by_kind : {},
    method: "window",
    warnings: Array.isArray(json.warnings) ? (json.warnings as DataWarning[]) : [],
  };
  if (id.mode === "concurrency") level.concurrency = id.value;
  else if (id.mode === "replay") level.speed = id.value;
  else level.requestRate = id.value;
  if (json.client_verdict === "ok" || json.client_verdict === "client_bound")
    level.clientVerdict = json.client_verdict;
  const chunks = json.tokens_per_chunk as { mean?: unknown } | null | undefined;
  if (chunks && typeof chunks.mean === "number") level.tokensPerChunkMean = chunks.mean;
  const deviation = json.prompt_tokens_deviation as Record<string, unknown> | null | undefined;
  if (deviation && ["mean", "min", "max"].every((k) => typeof deviation[k] === "number")) {
    const { mean, min, max } = deviation as { mean: number; min: number; max: number };
    level.promptTokensDeviation = { mean, min, max };
  }
  const perClient = num("achieved_concurrency_per_client");
  if (perClient !== undefined && id.mode === "concurrency") level.achievedConcurrency = perClient;
  const rate = num("achieved_rate");
  if (rate !== undefined && id.mode !== "concurrency") level.achievedRate = rate / level.clients;
  if (json.interrupted === true) level.interrupted = true;
  const repeats = repeatsFrom(json.repeats);
  if (repeats.length > 0) level.repeats = repeats;
  const ci = json.output_throughput_ci95;
  if (Array.isArray(ci) && ci.length === 2 && ci.every((v) => typeof v === "number"))
    level.outputThroughputCi95 = [ci[0] as number, ci[1] as number];
  const seed = json.seed_view as Record<string, unknown> | undefined;
  if (seed && typeof seed.output_throughput === "number" && typeof seed.request_throughput === "number") {
    const seedLatency: Partial<Record<LatencyMetric, LatencyStats>> = {};
    for (const metric of LATENCY_METRICS) {
      const stats = latencyFromVllm(seed, metric);
      if (stats) seedLatency[metric] = stats;
    }
    level.seedView = {
      requestThroughput: seed.request_throughput,
      outputThroughput: seed.output_throughput,
      totalTokenThroughput: typeof seed.total_token_throughput === "number" ? seed.total_token_throughput : 0,
      latency: seedLatency,
    };
  }
  return level;
}

/** The per-repeat latency keys of a combined all-parts file, and their names in the model. */
const REPEAT_LATENCY_KEYS = [
  ["median_ttft_ms", "ttftP50Ms"],
  ["p99_ttft_ms", "ttftP99Ms"],
  ["median_tpot_ms", "tpotP50Ms"],
  ["p99_tpot_ms", "tpotP99Ms"],
] as const;

/** The `repeats` list of a combined all-parts file; entries without throughputs are skipped. */
function repeatsFrom(value: unknown): NonNullable<LevelSummary["repeats"]> {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry) => {
    const r = entry as Record<string, unknown> | null;
    if (typeof r?.output_throughput !== "number" || typeof r.request_throughput !== "number") return [];
    const repeat: NonNullable<LevelSummary["repeats"]>[number] = {
      outputThroughput: r.output_throughput,
      requestThroughput: r.request_throughput,
    };
    if (typeof r.output_goodput === "number") repeat.outputGoodput = r.output_goodput;
    if (typeof r.request_goodput === "number") repeat.requestGoodput = r.request_goodput;
    for (const [key, name] of REPEAT_LATENCY_KEYS)
      if (typeof r[key] === "number") repeat[name] = r[key] as number;
    const percentiles = Object.entries(r).filter(
      (e): e is [string, number] =>
        /^(median|p\d+)_(ttft|tpot|e2el)_ms$/.test(e[0]) && typeof e[1] === "number",
    );
    if (percentiles.length > 0) repeat.percentilesMs = Object.fromEntries(percentiles);
    return [repeat];
  });
}

function isNumberRecord(value: unknown): value is Record<string, number> {
  return (
    typeof value === "object" && value !== null && Object.values(value).every((v) => typeof v === "number")
  );
}
