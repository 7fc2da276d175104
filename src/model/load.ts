import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { UserError } from "../errors.js";
import { readOrchestrateExperiment } from "./orchestrate-experiment.js";
import { EXPERIMENT_MANIFEST } from "./orchestrate-manifest.js";
import type { ExperimentSummary } from "./types.js";
import { isVllmExperiment, readVllmExperiment } from "./vllm-experiment.js";

/** The manifest `orchestrate bench` writes at the top of each experiment folder. */
export { EXPERIMENT_MANIFEST };

/** Where `bench EXP` keeps an experiment: EXP under the results folder (an absolute EXP as it is). */
export function experimentDir(exp: string, resultsDir: string): string {
  return resolve(resultsDir, exp);
}

/**
 * The folder `results EXP` reads: EXP as a path when it exists, else where `bench EXP` put it,
 * so `bench try1` then `results try1` finds the experiment.
 */
export function locateExperiment(arg: string, resultsDir: string): string {
  if (existsSync(arg)) return arg;
  const made = experimentDir(arg, resultsDir);
  if (existsSync(made)) return made;
  throw new UserError(`${arg}: no such experiment; neither ./${arg} nor ${join(resultsDir, arg)} exists`, {
    hint: "without a folder, `results` lists the experiments under --results-dir",
  });
}

/**
 * Reads any experiment folder: ours (it has experiment.json) or a folder of `vllm bench serve`
 * results. Everything downstream (results, report) works on the summary only.
 */
export async function loadExperiment(dirArg: string): Promise<ExperimentSummary> {
  const dir = resolve(dirArg);
  if (!existsSync(dir)) throw new UserError(`${dirArg}: no such folder`);
  if (existsSync(join(dir, EXPERIMENT_MANIFEST))) return readOrchestrateExperiment(dir);
  if (await isVllmExperiment(dir)) return readVllmExperiment(dir);
  throw new UserError(`${dirArg}: not an experiment folder`, {
    hint: `expected ${EXPERIMENT_MANIFEST} (orchestrate bench) or partK/concC.json files (vllm bench serve)`,
  });
}

/** Experiment folders under `root` (not descending into an experiment once found), sorted by path. */
export async function findExperiments(root: string, maxDepth = 4): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string, depth: number): Promise<void> {
    if (existsSync(join(dir, EXPERIMENT_MANIFEST)) || (await isVllmExperiment(dir))) {
      found.push(dir);
      return;
    }
    if (depth >= maxDepth) return;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (entry.isDirectory() && !entry.name.startsWith(".") && entry.name !== "node_modules") {
        await walk(join(dir, entry.name), depth + 1);
      }
    }
  }
  if (existsSync(root)) await walk(resolve(root), 0);
  return found.sort();
}
