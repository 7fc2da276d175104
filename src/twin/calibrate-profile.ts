/**
 * The core of `orchestrate sim calibrate DIR... --out FILE`: read the folders, fit each runtime
 * found in them, and write the profile with its provenance and per-level residuals inside.
 */
import { basename } from "node:path";
import { UserError } from "../errors.js";
import { toolVersion } from "../paths.js";
import { BATCHED_TOKEN_CANDIDATES, fitRuntime } from "./calibrate.js";
import { readObservations } from "./observations.js";
import { PROFILE_FORMAT_VERSION, type ProfileRuntime, type RuntimeFit, type SimProfile } from "./profile.js";

export interface CalibrateOptions {
  dirs: readonly string[];
  /** The profile's name; default the output file's name without .json. */
  name: string;
  /** The command line, recorded in the profile. */
  command: string;
  /** Measured requests per client at concurrency c in the data: this × c (vLLM bench and the seed: 10). */
  promptsPerConcurrency?: number;
  now?: Date;
}

const METHOD = [
  "Per part and level, only completed requests count: the part's whole-run output rate (completed output tokens ÷ its duration) scaled to one replica, its median TTFT and its median TPOT; no tail percentiles, and not the seed's all-parts averages.",
  "Parts of all folders of a runtime are pooled per concurrency level by their median, weighted by completed requests (a median, so one odd client cannot move it: one of rayturbo251-x4's four saw 30–40% lower TPOT than the rest).",
  "The simulated load is the concurrency the server really carried, by Little's law over completed requests (the seed's failed requests ended at once and held a slot now and then).",
  "With one prompt length, prefill and per-sequence decode cost trade off (both make TPOT grow with load); results at a second prompt length separate them.",
  "One replica is simulated per level in virtual time (the simulator's own engine and ingress); Levenberg–Marquardt on log costs minimises log(predicted ÷ observed) of throughput and median TPOT (weight 1) and median TTFT (weight 0.25).",
  `The engine's per-step token budget is not in the files; the fit tries ${BATCHED_TOKEN_CANDIDATES.join(", ")} and keeps the best.`,
];

const RUNTIME_NOTES = [
  "ingress chunk_cost_ms and request_overhead_ms are 0: a per-chunk ingress cost cannot be told apart from the engine's per-sequence cost unless the ingress saturates, and left free the fit drove it to zero; the per-request part of the path is inside network_latency_ms.",
  "kv_cache_tokens is a lower bound (the busiest level's sequences, whole): TPOT grows without a break up to that level, so the cache never filled.",
];

export async function calibrateProfile(options: CalibrateOptions): Promise<SimProfile> {
  if (options.dirs.length === 0) throw new UserError("sim calibrate needs at least one result folder");
  const observations = await readObservations(options.dirs);
  const promptsPerConcurrency = options.promptsPerConcurrency ?? 10;
  const runtimes: Partial<Record<ProfileRuntime, RuntimeFit>> = {};
  for (const runtime of ["oss", "turbo"] as const) {
    const levels = observations.levels.filter((l) => l.runtime === runtime);
    if (levels.length === 0) continue;
    if (levels.length < 3) {
      throw new UserError(`${runtime}: ${levels.length} concurrency level(s) is too few to fit four costs`, {
        hint: "calibrate from closed-loop results with at least three concurrency levels",
      });
    }
    const { fit } = fitRuntime(levels, promptsPerConcurrency);
    runtimes[runtime] = { ...fit, sources: observations.sources[runtime], notes: RUNTIME_NOTES };
  }
  return {
    kind: "orchestrate-sim-profile",
    format: PROFILE_FORMAT_VERSION,
    name: options.name,
    provenance: {
      command: options.command,
      tool_version: toolVersion(),
      created_at: (options.now ?? new Date()).toISOString(),
      method: METHOD,
    },
    workloads: observations.workloads.map((w) => ({
      input_tokens: w.inputTokens,
      output_tokens: w.outputTokens,
    })),
    runtimes,
  };
}

export function profileNameFromPath(path: string): string {
  return basename(path).replace(/\.json$/i, "");
}
