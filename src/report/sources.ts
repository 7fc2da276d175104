import { existsSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { z } from "zod";
import { UserError } from "../errors.js";
import { cliCommand } from "../invocation.js";
import { readJsonFile } from "../json-file.js";
import { findExperiments, loadExperiment } from "../model/load.js";
import { workloadFileSchema } from "../model/orchestrate-manifest.js";
import type { ExperimentSummary, RunSetup } from "../model/types.js";
import { imageAndScaleFromName } from "../model/vllm-experiment.js";
import { readTwinPrediction, TWIN_FILE, type TwinPrediction } from "./twin.js";

/**
 * Turns the paths given to `orchestrate report` into experiments (+ the run's setup): a run folder
 * (it has setup.json; its experiments are under cells/), experiment folders (ours or vLLM's), or a
 * folder that holds experiment folders. Scales can be taken from folder names or given per
 * experiment, for folders that do not record them.
 */

export const RUN_SETUP_FILE = "setup.json";
export const RUN_CELLS_DIR = "cells";
export const DEFAULT_REPORT_DIR = "report";

export interface ScaleOptions {
  /** Take image and scale from the folder name ("rayoss251-x4"), over what the folder records. */
  scaleFromName?: boolean;
  /** Experiment name (folder name) or path → scale. */
  scales?: Record<string, number>;
}

export interface ReportSources {
  experiments: ExperimentSummary[];
  setup?: RunSetup;
  /** What the twin predicted for the run, when one run folder was given and it saved a prediction. */
  twin?: TwinPrediction;
  /** The run folders among the inputs. */
  runDirs: string[];
  /** RUN_DIR/report for one run folder, else ./report. */
  defaultOutDir: string;
}

export async function loadReportSources(
  paths: readonly string[],
  options: ScaleOptions = {},
  cwd: string = process.cwd(),
): Promise<ReportSources> {
  if (paths.length === 0)
    throw new UserError("no folder given", { hint: `${cliCommand("report")} RUN_DIR | EXP_DIR...` });
  const runDirs: string[] = [];
  const experimentDirs: string[] = [];
  let setup: RunSetup | undefined;
  for (const arg of paths) {
    const dir = resolve(cwd, arg);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`${arg}: no such folder`);
    if (existsSync(join(dir, RUN_SETUP_FILE))) {
      runDirs.push(dir);
      setup ??= await readRunSetup(join(dir, RUN_SETUP_FILE));
      const cells = await findExperiments(join(dir, RUN_CELLS_DIR));
      if (cells.length === 0) {
        throw new UserError(`${arg}: this run folder has no experiments under ${RUN_CELLS_DIR}/ yet`, {
          hint: `a report needs at least one benchmarked cell; see \`${cliCommand("status", arg)}\``,
        });
      }
      experimentDirs.push(...cells);
      continue;
    }
    const found = await findExperiments(dir);
    if (found.length === 0) {
      throw new UserError(`${arg}: not a run folder or an experiment folder`, {
        hint: `expected ${RUN_SETUP_FILE} (a run folder), experiment.json (orchestrate bench) or partK/concC.json files (vllm bench serve)`,
      });
    }
    experimentDirs.push(...found);
  }

  const unique = [...new Set(experimentDirs)];
  const experiments: ExperimentSummary[] = [];
  for (const dir of unique) experiments.push(await loadExperiment(dir));
  applyScaleOptions(experiments, options);

  const sources: ReportSources = {
    experiments,
    runDirs,
    defaultOutDir:
      runDirs.length === 1 && runDirs[0] !== undefined
        ? join(runDirs[0], DEFAULT_REPORT_DIR)
        : resolve(cwd, DEFAULT_REPORT_DIR),
  };
  if (setup) sources.setup = setup;
  const twinPath = runDirs.length === 1 && runDirs[0] !== undefined ? join(runDirs[0], TWIN_FILE) : undefined;
  if (twinPath && existsSync(twinPath)) sources.twin = await readTwinPrediction(twinPath);
  return sources;
}

export function applyScaleOptions(experiments: ExperimentSummary[], options: ScaleOptions): void {
  if (options.scaleFromName) {
    const unnamed: string[] = [];
    for (const e of experiments) {
      const { image, scale } = imageAndScaleFromName(e.name);
      if (scale === undefined) unnamed.push(e.name);
      else {
        e.scale = scale;
        if (image) e.image = image;
      }
    }
    if (unnamed.length > 0) {
      throw new UserError("--scale-from-name: these folder names carry no scale", {
        details: unnamed.map((n) => `• ${n}`),
        hint: "name them IMAGE-xN (rayoss251-x4), or give --scale NAME=N",
      });
    }
  }
  for (const [key, scale] of Object.entries(options.scales ?? {})) {
    const matches = experiments.filter(
      (e) => e.name === key || e.dir === resolve(key) || basename(e.dir) === key,
    );
    if (matches.length === 0) {
      throw new UserError(`--scale ${key}=${scale}: no experiment named ${key}`, {
        details: experiments.map((e) => `• ${e.name}`),
      });
    }
    for (const e of matches) e.scale = scale;
  }
}

/** Parses "--scale" values "NAME=N" into a map; every mistake is reported at once. */
export function parseScaleFlags(values: readonly string[]): Record<string, number> {
  const scales: Record<string, number> = {};
  const problems: string[] = [];
  for (const value of values) {
    const match = /^(.+)=(\d+)$/.exec(value);
    const scale = match ? Number(match[2]) : Number.NaN;
    if (!match || !(scale >= 1))
      problems.push(`• ${value}: expected NAME=N with N ≥ 1 (e.g. rayoss251-x4=4)`);
    else scales[match[1] as string] = scale;
  }
  if (problems.length > 0) throw new UserError("bad --scale value", { details: problems });
  return scales;
}

const runSetupSchema = z.looseObject({
  planName: z.string(),
  target: z.enum(["anyscale", "local"]),
  toolVersion: z.string(),
  anyscaleCli: z.string().optional(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  linearityTolerance: z.number().positive().lt(1).optional(),
  where: z.string(),
  model: z.looseObject({
    modelId: z.string(),
    modelSource: z.string().optional(),
    acceleratorType: z.string().optional(),
    tensorParallelSize: z.number(),
    engineKwargs: z.record(z.string(), z.unknown()),
    prefixCaching: z.boolean(),
    streamBatchingIntervalMs: z.number().optional(),
  }),
  images: z.array(
    z.looseObject({
      name: z.string(),
      runtime: z.enum(["oss", "turbo"]),
      base: z.string(),
      env: z.record(z.string(), z.string()),
    }),
  ),
  scales: z.array(z.looseObject({ replicas: z.number(), clients: z.number(), ingressReplicas: z.number() })),
  workload: z.looseObject({
    mode: z.enum(["concurrency", "request-rate", "replay"]),
    levels: z.array(z.number()),
    inputTokens: z.number(),
    outputTokens: z.number(),
    lengths: z.string().optional(),
    endpoint: z.enum(["completions", "chat"]).optional(),
    requestsPerLevel: z.string(),
    file: workloadFileSchema.optional(),
    slo: z
      .looseObject({
        ttftMs: z.number().optional(),
        tpotMs: z.number().optional(),
        e2elMs: z.number().optional(),
        percentile: z.union([z.literal(50), z.literal(90), z.literal(95), z.literal(99)]).optional(),
        goodputFraction: z.number().optional(),
        targetRate: z.number().optional(),
      })
      .optional(),
  }),
});

export async function readRunSetup(path: string): Promise<RunSetup> {
  return (await readJsonFile(path, runSetupSchema, "a run setup file")) as RunSetup;
}
