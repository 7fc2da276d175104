import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { UserError } from "../errors.js";
import { compareLevels, type LevelId, parseLevelKey } from "./level-key.js";
import { aggregateLikeSeed } from "./seed-view.js";
import type { DataWarning, ExperimentSummary, LatencyMetric, LatencyStats, LevelSummary } from "./types.js";
import { latencyFromVllm, readVllmResult, type VllmResult } from "./vllm-format.js";

/**
 * Reads a folder of `vllm bench serve` results as the seed benchmark laid them out:
 * `partK/concC.json` per client (or `rrR.json`), and optionally `all-parts/` with the seed's own
 * aggregation; a folder of level files without parts is one client. vLLM files carry no raw
 * samples, so a level can only be aggregated the seed's way (sums and means); the summary says so.
 */

const PART_DIR = /^part(\d+)$/;
const LATENCY_METRICS: LatencyMetric[] = ["ttft", "tpot", "itl", "e2el"];

interface PartFile {
  part: string;
  result: VllmResult;
}

export async function isVllmExperiment(dir: string): Promise<boolean> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.some(
    (e) =>
      (e.isDirectory() && PART_DIR.test(e.name)) ||
      (e.isFile() && e.name.endsWith(".json") && parseLevelKey(e.name.slice(0, -5)) !== undefined),
  );
}

export async function readVllmExperiment(dirArg: string): Promise<ExperimentSummary> {
  const dir = resolve(dirArg);
  const partDirs = await listPartDirs(dir);
  const sources = partDirs.length > 0 ? partDirs : [{ part: "(single client)", path: dir }];

  const filesByLevel = new Map<string, { id: LevelId; files: PartFile[] }>();
  for (const source of sources) {
    for (const id of await listLevelFiles(source.path)) {
      const entry = filesByLevel.get(id.key) ?? { id, files: [] };
      entry.files.push({
        part: source.part,
        result: await readVllmResult(join(source.path, `${id.key}.json`)),
      });
      filesByLevel.set(id.key, entry);
    }
  }
  if (filesByLevel.size === 0) {
    throw new UserError(`${dir}: no benchmark results found`, {
      hint: "expected partK/concC.json (or rrR.json) files, as `vllm bench serve --save-result` writes them",
    });
  }

  const storedAggregateDir = join(dir, "all-parts");
  const levels: LevelSummary[] = [];
  const ordered = [...filesByLevel.values()].sort((a, b) => compareLevels(a.id, b.id));
  for (const { id, files } of ordered) {
    const level = summarizeLevel(id, files, sources.length);
    const storedPath = join(storedAggregateDir, `${id.key}.json`);
    if (partDirs.length > 0 && existsSync(storedPath)) {
      level.warnings.push(...compareWithStoredAggregate(id.key, files, await readVllmResult(storedPath)));
    }
    levels.push(level);
  }

  const name = basename(dir);
  const { image, scale } = imageAndScaleFromName(name);
  const first = ordered[0]?.files[0]?.result;
  const summary: ExperimentSummary = {
    dir,
    name,
    clients: sources.length,
    format: "vllm",
    levels,
    warnings: levels.flatMap((l) => l.warnings),
  };
  if (image !== undefined) summary.image = image;
  const runtime = runtimeFromName(name);
  if (runtime !== undefined) summary.runtime = runtime;
  if (scale !== undefined) summary.scale = scale;
  if (first?.model_id) summary.modelId = first.model_id;
  if (first?.date) summary.startedAt = vllmDateToIso(first.date);
  return summary;
}

async function listPartDirs(dir: string): Promise<Array<{ part: string; path: string }>> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new UserError(`${dir}: cannot read this folder`, { cause: error });
  }
  return entries
    .filter((e) => e.isDirectory() && PART_DIR.test(e.name))
    .map((e) => ({ part: e.name, path: join(dir, e.name), n: Number(PART_DIR.exec(e.name)?.[1]) }))
    .sort((a, b) => a.n - b.n)
    .map(({ part, path }) => ({ part, path }));
}

async function listLevelFiles(dir: string): Promise<LevelId[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".json"))
    .map((e) => parseLevelKey(e.name.slice(0, -5)))
    .filter((id): id is LevelId => id !== undefined);
}

function summarizeLevel(id: LevelId, files: PartFile[], expectedParts: number): LevelSummary {
  const seed = aggregateLikeSeed(files.map((f) => f.result));
  const numPrompts = files.reduce((acc, f) => acc + f.result.num_prompts, 0);
  const completed = files.reduce((acc, f) => acc + f.result.completed, 0);
  const failed = files.reduce(
    (acc, f) => acc + (f.result.failed ?? f.result.num_prompts - f.result.completed),
    0,
  );
  const latency: Partial<Record<LatencyMetric, LatencyStats>> = {};
  for (const metric of LATENCY_METRICS) {
    const stats = latencyFromVllm(seed, metric);
    if (stats) latency[metric] = stats;
  }

  const level: LevelSummary = {
    key: id.key,
    mode: id.mode,
    clients: files.length,
    numPrompts,
    completed,
    failed,
    durationS: seed.duration as number,
    requestThroughput: seed.request_throughput as number,
    outputThroughput: seed.output_throughput as number,
    totalTokenThroughput: (seed.total_token_throughput as number | undefined) ?? 0,
    requestGoodput: (seed.request_goodput as number | null | undefined) ?? null,
    latency,
    errorsByKind: {},
    method: "seed_sum",
    warnings: levelWarnings(id.key, files, expectedParts),
  };
  if (id.mode === "concurrency") level.concurrency = files[0]?.result.max_concurrency ?? id.value;
  else level.requestRate = id.value;
  return level;
}

function levelWarnings(key: string, files: PartFile[], expectedParts: number): DataWarning[] {
  const warnings: DataWarning[] = [];
  const short = files.filter((f) => f.result.completed < f.result.num_prompts);
  if (short.length > 0) {
    const asked = files.reduce((acc, f) => acc + f.result.num_prompts, 0);
    const done = files.reduce((acc, f) => acc + f.result.completed, 0);
    const perPart = short.map((f) => `${f.part} ${f.result.completed}/${f.result.num_prompts}`).join(", ");
    warnings.push({
      kind: "incomplete",
      level: key,
      message:
        `${key}: only ${done} of ${asked} requests completed (${percent(done, asked)}); ${perPart}. ` +
        "The files do not say why the others failed, so these throughputs count only the survivors.",
    });
  }
  if (files.length > 1) {
    warnings.push({
      kind: "averaged_percentiles",
      level: key,
      message:
        `${key}: latency percentiles are the mean of ${files.length} clients' own percentiles (vLLM files hold ` +
        "no raw samples); that is not the percentile of all requests, and throughputs are summed " +
        "over windows that may not have overlapped.",
    });
  }
  if (files.length < expectedParts) {
    warnings.push({
      kind: "missing_part",
      level: key,
      message: `${key}: only ${files.length} of ${expectedParts} parts have a result for this level.`,
    });
  }
  return warnings;
}

/** The seed wrote all-parts/ itself; if its numbers differ from the parts, someone edited something. */
function compareWithStoredAggregate(key: string, files: PartFile[], stored: VllmResult): DataWarning[] {
  const recomputed = aggregateLikeSeed(files.map((f) => f.result));
  const mismatches: string[] = [];
  for (const field of ["completed", "output_throughput", "request_throughput", "num_prompts"] as const) {
    const ours = recomputed[field];
    const theirs = stored[field];
    if (typeof ours === "number" && typeof theirs === "number" && ours !== theirs) {
      mismatches.push(`${field} ${theirs} (stored) vs ${ours} (from the parts)`);
    }
  }
  if (mismatches.length === 0) return [];
  return [
    {
      kind: "other",
      level: key,
      message: `${key}: all-parts/${key}.json does not match its parts: ${mismatches.join("; ")}.`,
    },
  ];
}

/** "rayoss251-x2" → image "rayoss251", scale 2; "gptoss-120b-rayturbo-251-x4" → scale 4. */
export function imageAndScaleFromName(name: string): { image?: string; scale?: number } {
  const match = /^(.*?)[-_]x(\d+)$/.exec(name) ?? /^(.*?)[-_](\d+)x$/.exec(name);
  if (!match) return { image: name };
  return { image: match[1], scale: Number(match[2]) };
}

export function runtimeFromName(name: string): "oss" | "turbo" | undefined {
  if (/turbo/i.test(name)) return "turbo";
  if (/oss/i.test(name)) return "oss";
  return undefined;
}

/** vLLM dates look like "20251102-114456" (local time of the client, no zone). */
function vllmDateToIso(date: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})$/.exec(date);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}` : date;
}

function percent(part: number, whole: number): string {
  return whole === 0 ? "0%" : `${((100 * part) / whole).toFixed(1)}%`;
}
