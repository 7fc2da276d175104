import { UserError } from "../errors.js";
import { compareLevels, type LevelId, levelKey, parseLevelKey } from "../model/level-key.js";
import type { DataWarning, ExperimentSummary, LevelSummary, LoadMode, RunSetup } from "../model/types.js";
import { runtimeFromName } from "../model/vllm-experiment.js";

/**
 * The report's view of a set of experiments: images × scales × levels, with a hole (undefined)
 * wherever a cell or a level was not measured. Everything the report shows is computed from this,
 * so a missing scale stays missing all the way to the page instead of turning into a zero.
 */

export type Runtime = "oss" | "turbo";

export interface ImageGroup {
  image: string;
  runtime?: Runtime;
  /** Scales (LLM replicas) of this image: the ones measured plus the ones the plan asked for, ascending. */
  scales: number[];
  /** Levels of this image (measured or planned), concurrency first then rates, ascending. */
  levels: LevelId[];
  /** The experiments per scale (more than one when a cell was run again: its levels become repeats). */
  experiments: Map<number, ExperimentSummary[]>;
  /** scale → level key → the measured level; absent = not measured. */
  cells: Map<number, Map<string, LevelSummary>>;
}

export interface ReportInput {
  images: ImageGroup[];
  setup?: RunSetup;
  /** Every experiment, in input order. */
  experiments: ExperimentSummary[];
}

export function cellAt(group: ImageGroup, scale: number, key: string): LevelSummary | undefined {
  return group.cells.get(scale)?.get(key);
}

export function clientsAt(group: ImageGroup, scale: number): number | undefined {
  return group.experiments.get(scale)?.[0]?.clients;
}

/** Groups experiments by image and scale. Every experiment must know its scale by now. */
export function assembleReportInput(experiments: ExperimentSummary[], setup?: RunSetup): ReportInput {
  const unscaled = experiments.filter((e) => e.scale === undefined);
  if (unscaled.length > 0) {
    throw new UserError("the scale (number of LLM replicas) of some experiments is unknown", {
      details: unscaled.map((e) => `• ${e.dir}`),
      hint: "name the folders with a -xN suffix (rayoss251-x4), or pass --scale NAME=N for each",
    });
  }

  const byImage = new Map<string, ExperimentSummary[]>();
  for (const experiment of experiments) {
    const image = experiment.image ?? experiment.name;
    byImage.set(image, [...(byImage.get(image) ?? []), experiment]);
  }
  const images = [...byImage.entries()].map(([image, list]) => buildGroup(image, list, setup));
  images.sort(compareImages);
  const input: ReportInput = { images, experiments };
  if (setup) input.setup = setup;
  return input;
}

function buildGroup(image: string, list: ExperimentSummary[], setup?: RunSetup): ImageGroup {
  const experimentsByScale = new Map<number, ExperimentSummary[]>();
  for (const experiment of list) {
    const scale = experiment.scale as number;
    experimentsByScale.set(scale, [...(experimentsByScale.get(scale) ?? []), experiment]);
  }

  const cells = new Map<number, Map<string, LevelSummary>>();
  for (const [scale, runs] of experimentsByScale) cells.set(scale, mergeRuns(runs));

  const plannedScales = setup?.scales.map((s) => s.replicas) ?? [];
  const scales = [...new Set([...experimentsByScale.keys(), ...plannedScales])].sort((a, b) => a - b);

  const levels = new Map<string, LevelId>();
  for (const byKey of cells.values()) {
    for (const level of byKey.values()) levels.set(level.key, levelIdOf(level));
  }
  for (const id of plannedLevels(setup)) if (!levels.has(id.key)) levels.set(id.key, id);

  const group: ImageGroup = {
    image,
    scales,
    levels: [...levels.values()].sort(compareLevels),
    experiments: experimentsByScale,
    cells,
  };
  const runtime = runtimeOf(image, list, setup);
  if (runtime) group.runtime = runtime;
  return group;
}

function levelIdOf(level: LevelSummary): LevelId {
  const parsed = parseLevelKey(level.key);
  if (parsed) return parsed;
  const value =
    level.mode === "concurrency"
      ? (level.concurrency ?? 0)
      : level.mode === "replay"
        ? (level.speed ?? 0)
        : (level.requestRate ?? 0);
  return { mode: level.mode, value, key: level.key };
}

function plannedLevels(setup?: RunSetup): LevelId[] {
  if (!setup) return [];
  const mode: LoadMode = setup.workload.mode;
  return setup.workload.levels.map((value) => ({ mode, value, key: levelKey(mode, value) }));
}

function runtimeOf(image: string, list: ExperimentSummary[], setup?: RunSetup): Runtime | undefined {
  const declared = list.find((e) => e.runtime)?.runtime;
  if (declared) return declared;
  const planned = setup?.images.find((i) => i.name === image)?.runtime;
  return planned ?? runtimeFromName(image);
}

/** OSS before Turbo before anything else, then by name: the order a reader compares them in. */
function compareImages(a: ImageGroup, b: ImageGroup): number {
  const rank = (g: ImageGroup) => (g.runtime === "oss" ? 0 : g.runtime === "turbo" ? 1 : 2);
  return rank(a) - rank(b) || a.image.localeCompare(b.image);
}

/**
 * One cell run more than once (the same image and scale in several experiment folders): each level
 * becomes the mean of its runs with the runs kept as repeats, so the report can show their spread.
 * Every rate is averaged the same way, goodputs included (a goodput taken from the first run beside
 * a throughput averaged over all would compare different things). Counts add up. Latency
 * percentiles cannot be averaged honestly, so they are the first run's.
 */
function mergeRuns(runs: ExperimentSummary[]): Map<string, LevelSummary> {
  const byKey = new Map<string, RunLevel[]>();
  for (const run of runs) {
    for (const level of run.levels) byKey.set(level.key, [...(byKey.get(level.key) ?? []), { run, level }]);
  }
  const merged = new Map<string, LevelSummary>();
  for (const [key, found] of byKey) {
    merged.set(key, found.length === 1 ? (found[0] as RunLevel).level : mergeLevels(found));
  }
  return merged;
}

interface RunLevel {
  run: ExperimentSummary;
  level: LevelSummary;
}

function mergeLevels(found: RunLevel[]): LevelSummary {
  const levels = found.map((f) => f.level);
  const first = levels[0] as LevelSummary;
  const repeats: NonNullable<LevelSummary["repeats"]> = levels.flatMap((l) =>
    l.repeats && l.repeats.length > 0 ? l.repeats : [ratesOf(l)],
  );
  const sum = (pick: (l: LevelSummary) => number) => levels.reduce((acc, l) => acc + pick(l), 0);
  const warnings: DataWarning[] = found.flatMap(({ run, level }) =>
    level.warnings.map((w) => ({ ...w, message: `${run.name}: ${w.message}` })),
  );
  return {
    ...first,
    numPrompts: sum((l) => l.numPrompts),
    completed: sum((l) => l.completed),
    failed: sum((l) => l.failed),
    outputThroughput: mean(repeats.map((r) => r.outputThroughput)),
    requestThroughput: mean(repeats.map((r) => r.requestThroughput)),
    totalTokenThroughput: mean(levels.map((l) => l.totalTokenThroughput)),
    outputGoodput: meanOfAll(repeats.map((r) => r.outputGoodput)),
    requestGoodput: meanOfAll(repeats.map((r) => r.requestGoodput)),
    warnings,
    repeats,
  };
}

/** A run without repeats, as one repeat. */
function ratesOf(level: LevelSummary): NonNullable<LevelSummary["repeats"]>[number] {
  return {
    outputThroughput: level.outputThroughput,
    requestThroughput: level.requestThroughput,
    outputGoodput: level.outputGoodput ?? null,
    requestGoodput: level.requestGoodput ?? null,
  };
}

function mean(values: readonly number[]): number {
  return values.reduce((acc, v) => acc + v, 0) / values.length;
}

/** The mean when every run has the value; null when any lacks it (a partial mean would mislead). */
function meanOfAll(values: ReadonlyArray<number | null | undefined>): number | null {
  return values.every((v): v is number => typeof v === "number") ? mean(values) : null;
}
