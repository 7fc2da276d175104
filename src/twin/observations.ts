/**
 * What calibration fits against: per runtime and per-client concurrency, one observed per-replica
 * throughput, median TTFT and median TPOT, read from result folders laid out as
 * `partK/concC.json` (vLLM bench files: the seed's folders, and the per-part files orchestrate
 * writes itself).
 *
 * The seed's own aggregation (`all-parts/`) is not used: it averages the clients' p99s, which is
 * not a percentile of anything, and sums throughputs over windows that need not overlap. Instead,
 * per part and level:
 *   - throughput is the part's whole-run rate (its completed requests' output tokens ÷ its
 *     duration), scaled to one replica by clients ÷ replicas (one client per replica: the part's
 *     own rate);
 *   - latency is the part's median TTFT and median TPOT, never a tail percentile;
 * and the parts of every folder with the same runtime and concurrency are pooled by their median,
 * weighted by completed requests, so a part where most requests failed counts for little and one
 * odd part cannot drag the value.
 *
 * Only completed requests enter. The seed's failed ones (15–40%) ended at once: by Little's law
 * the completed ones alone kept 91–98% of the nominal concurrency busy (a closed loop without
 * failures keeps 98–100%: it ramps up and drains), so the failures took no engine time but did
 * hold a client's slot now and then. The fit therefore simulates the load the server really
 * carried, lowered by that shortfall, so it learns the engine's costs rather than the seed's
 * failure rate.
 */
import { readdir } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { UserError } from "../errors.js";
import { imageAndScaleFromName, runtimeFromName } from "../model/vllm-experiment.js";
import { readVllmResult, type VllmResult } from "../model/vllm-format.js";
import type { ProfileRuntime } from "./profile.js";

export interface ObservedLevel {
  runtime: ProfileRuntime;
  /** Tokens per request in and out (as the server counted them). */
  inputTokens: number;
  outputTokens: number;
  concurrency: number;
  /** Folder names that contributed. */
  sources: string[];
  completed: number;
  /**
   * Requests a replica really had in flight, by Little's law over the completed ones: completed
   * per second × their mean end-to-end latency (mean TTFT + (output − 1) × mean TPOT).
   */
  effective_concurrency: number;
  per_replica_output_throughput: number;
  median_ttft_ms: number;
  median_tpot_ms: number;
}

export interface Observations {
  levels: ObservedLevel[];
  /** The distinct (input, output) lengths of the levels. */
  workloads: Array<{ inputTokens: number; outputTokens: number }>;
  /** Per runtime, the folders read. */
  sources: Record<ProfileRuntime, string[]>;
}

interface PartLevel {
  folder: string;
  runtime: ProfileRuntime;
  inputTokens: number;
  outputTokens: number;
  concurrency: number;
  /** Parts ÷ replicas: how many clients share one replica's load. */
  clientsPerReplica: number;
  result: VllmResult & Record<string, unknown>;
}

const PART_DIR = /^part(\d+)$/;
const REPEAT_DIR = /^repeat(\d+)$/;
const CONC_FILE = /^conc(\d+)\.json$/;

export async function readObservations(dirs: readonly string[]): Promise<Observations> {
  const parts: PartLevel[] = [];
  const sources: Record<ProfileRuntime, string[]> = { oss: [], turbo: [] };
  for (const dir of dirs) {
    const found = await readFolder(resolve(dir));
    parts.push(...found);
    const first = found[0];
    if (first) sources[first.runtime].push(first.folder);
  }
  const levels = poolByLevel(parts);
  const workloads = new Map(levels.map((l) => [`${l.inputTokens}/${l.outputTokens}`, l]));
  return {
    levels,
    workloads: [...workloads.values()].map(({ inputTokens, outputTokens }) => ({
      inputTokens,
      outputTokens,
    })),
    sources,
  };
}

async function readFolder(dir: string): Promise<PartLevel[]> {
  const folder = basename(dir);
  const runtime = runtimeFromName(folder);
  const { scale } = imageAndScaleFromName(folder);
  const hint = "name result folders like the seed's, e.g. rayoss251-x2 or rayturbo251-x4 (runtime and scale)";
  if (!runtime)
    throw new UserError(`${dir}: cannot tell the image's runtime (oss or turbo) from its name`, { hint });
  if (!scale) throw new UserError(`${dir}: cannot tell the number of replicas from its name`, { hint });
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new UserError(`${dir}: cannot read this folder`, { cause: error });
  }
  // With repeats (bench --repeats N) every run of the sweep has its own repeatR/partK/ folders:
  // each repeat's parts are observations like any other, pooled by the weighted median below.
  const sweeps = entries.some((e) => e.isDirectory() && PART_DIR.test(e.name))
    ? [dir]
    : entries.filter((e) => e.isDirectory() && REPEAT_DIR.test(e.name)).map((e) => join(dir, e.name));
  const out: PartLevel[] = [];
  for (const sweep of sweeps) out.push(...(await readSweep(sweep, folder, runtime, scale)));
  if (out.length === 0) {
    // Request-rate levels (rrR.json) or levels where nothing completed say nothing about a
    // closed loop's costs; calibrating on nothing would fit the defaults and look like an answer.
    throw new UserError(`${dir}: no partK/ (or repeatR/partK/) folders with completed concC.json results`, {
      hint: "calibration reads closed-loop (concurrency mode) results per client, as vllm bench serve and orchestrate bench write them",
    });
  }
  return out;
}

/** The parts of one run of the sweep: `partK/concC.json` under `dir`. */
async function readSweep(
  dir: string,
  folder: string,
  runtime: ProfileRuntime,
  scale: number,
): Promise<PartLevel[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const partDirs = entries.filter((e) => e.isDirectory() && PART_DIR.test(e.name)).map((e) => e.name);
  const out: PartLevel[] = [];
  for (const part of partDirs) {
    const files = (await readdir(join(dir, part))).filter((name) => CONC_FILE.test(name));
    for (const file of files) {
      const result = (await readVllmResult(join(dir, part, file))) as PartLevel["result"];
      if (result.completed === 0) continue;
      out.push({
        folder,
        runtime,
        // Rounded to the nearest 10 tokens: random prompts re-tokenise a few tokens longer or shorter.
        inputTokens: Math.round(tokensPerRequest(result, "total_input_tokens") / 10) * 10,
        outputTokens: Math.round(tokensPerRequest(result, "total_output_tokens")),
        concurrency: Number(CONC_FILE.exec(file)![1]),
        clientsPerReplica: partDirs.length / scale,
        result,
      });
    }
  }
  return out;
}

function poolByLevel(parts: PartLevel[]): ObservedLevel[] {
  const groups = new Map<string, PartLevel[]>();
  for (const part of parts) {
    const key = `${part.runtime}/${part.inputTokens}/${part.outputTokens}/${part.concurrency}`;
    groups.set(key, [...(groups.get(key) ?? []), part]);
  }
  const levels: ObservedLevel[] = [];
  for (const group of groups.values()) {
    const first = group[0]!;
    const weight = (p: PartLevel) => p.result.completed;
    levels.push({
      runtime: first.runtime,
      inputTokens: first.inputTokens,
      outputTokens: first.outputTokens,
      concurrency: first.concurrency,
      sources: [...new Set(group.map((p) => p.folder))].sort(),
      completed: group.reduce((sum, p) => sum + weight(p), 0),
      effective_concurrency: weightedMedian(group, weight, littleConcurrency),
      per_replica_output_throughput: weightedMedian(
        group,
        weight,
        (p) => p.result.output_throughput * p.clientsPerReplica,
      ),
      median_ttft_ms: weightedMedian(group, weight, (p) => numberAt(p, "median_ttft_ms")),
      median_tpot_ms: weightedMedian(group, weight, (p) => numberAt(p, "median_tpot_ms")),
    });
  }
  return levels.sort(
    (a, b) =>
      a.runtime.localeCompare(b.runtime) ||
      a.inputTokens - b.inputTokens ||
      a.outputTokens - b.outputTokens ||
      a.concurrency - b.concurrency,
  );
}

/** In-flight requests per replica, by Little's law over the part's completed requests. */
function littleConcurrency(part: PartLevel): number {
  const outputTokens = tokensPerRequest(part.result, "total_output_tokens");
  const e2eMs =
    numberAt(part, "mean_ttft_ms") + Math.max(0, outputTokens - 1) * numberAt(part, "mean_tpot_ms");
  return (part.result.request_throughput * e2eMs) / 1000 / part.clientsPerReplica;
}

function numberAt(part: PartLevel, key: string): number {
  const value = part.result[key];
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new UserError(`${part.folder}: a conc${part.concurrency}.json has no ${key}`, {
      hint: "calibration needs the medians vllm bench serve writes (median_ttft_ms, median_tpot_ms)",
    });
  }
  return value;
}

/**
 * The value below which half the weight lies (the mean of the two middle values when the halves
 * split exactly). A median, not a mean: one client whose requests went differently from the rest
 * (one of rayturbo251-x4's four saw 30–40% lower TPOT than the other three at every level) must not
 * pull the pooled value.
 */
function weightedMedian<T>(items: T[], weight: (item: T) => number, value: (item: T) => number): number {
  const points = items.map((item) => ({ w: weight(item), v: value(item) })).sort((a, b) => a.v - b.v);
  const half = points.reduce((sum, p) => sum + p.w, 0) / 2;
  let below = 0;
  for (let i = 0; i < points.length; i++) {
    below += points[i]!.w;
    if (below > half) return points[i]!.v;
    if (below === half) return (points[i]!.v + points[i + 1]!.v) / 2;
  }
  return points[points.length - 1]!.v;
}

function tokensPerRequest(result: VllmResult, key: "total_input_tokens" | "total_output_tokens"): number {
  const total = result[key];
  return typeof total === "number" && result.completed > 0 ? total / result.completed : 0;
}
