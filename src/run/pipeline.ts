import { Listr, type ListrTask, PRESET_TIMER } from "listr2";
import { formatBenchProgress } from "../bench/progress.js";
import type { Clock } from "../clock.js";
import { describeError, ExternalError, Interrupted } from "../errors.js";
import type { Cell } from "../plan/expand.js";
import type { Plan } from "../plan/resolve.js";
import { containerfilePath } from "../render/image.js";
import { defaultImageRef, type ImageRef } from "../render/service.js";
import { NotOurService } from "../targets/target.js";
import { settleBounded, TEARDOWN_PARALLELISM } from "./bounded.js";
import { CellRunner, type TeardownOutcome } from "./cell-runner.js";
import { type CellStep, type Journal, notOursEvent, ownerOf, type RunState } from "./journal.js";
import type { BenchProgress, BenchRunner, BuildingTarget, ReadinessProbe, ReportBuilder } from "./ports.js";
import type { RunFolder } from "./run-folder.js";

/**
 * The heart of `orchestrate run`: build images once, then for each cell in plan order
 * render ▶ deploy ▶ wait ▶ ready ▶ bench ▶ teardown, then the report. A failed cell is torn down
 * (per the plan's policy) and the run goes on to the next; an auth failure or Ctrl-C stops it.
 * listr2 shows progress (plain lines when stdout is not a terminal).
 */
export interface RunContext {
  plan: Plan;
  /** The plan file's folder, where relative paths in the plan point. */
  planDir: string;
  cells: Cell[];
  folder: RunFolder;
  journal: Journal;
  target: BuildingTarget;
  probe: ReadinessProbe;
  bench: BenchRunner;
  report: ReportBuilder;
  clock: Clock;
  graceful: AbortSignal;
  urgent: AbortSignal;
  keepServices: boolean;
  /** "silent" for tests; otherwise listr2 picks a renderer for the terminal. */
  renderer?: "default" | "simple" | "silent";
}

export interface RunSummary {
  outcome: "succeeded" | "failed" | "interrupted";
  cells: Array<{
    id: string;
    serviceName: string;
    outcome: "succeeded" | "failed" | "skipped";
    error?: string;
  }>;
  leftRunning: Array<{ serviceName: string; reason: string }>;
  /** Benchmark levels measured and kept, finished cells or not: what a resume will not re-run. */
  levelsKept: number;
  reportDir?: string;
  /** The report's verdict tables, printed before where the report is. */
  answer?: string;
  warnings: string[];
}

const STEP_TITLES: Record<CellStep, string> = {
  render: "render the service config",
  deploy: "deploy",
  wait: "wait until RUNNING",
  ready: "check /v1/models and a smoke completion",
  bench: "benchmark",
  teardown: "tear down",
};

type CellOutcome = RunSummary["cells"][number];

/** What the tasks of one run share as it goes: the images built, how cells ended, what stopped it. */
interface RunTally {
  warnings: string[];
  imageRefs: Map<string, ImageRef>;
  imageErrors: Map<string, string>;
  cellOutcomes: Map<string, CellOutcome>;
  /** An error that will fail every cell (auth): the run stops instead of burning through the plan. */
  fatal?: unknown;
}

export async function executeRun(ctx: RunContext): Promise<RunSummary> {
  const tally: RunTally = {
    warnings: [],
    imageRefs: new Map(),
    imageErrors: new Map(),
    cellOutcomes: new Map(),
  };
  const list = new Listr(
    [
      ...imagesToBuild(ctx).map((image) => buildTask(ctx, tally, image)),
      ...ctx.cells.map((cell, index) => cellTask(ctx, tally, cell, index)),
    ],
    {
      concurrent: false,
      exitOnError: false,
      registerSignalListeners: false,
      collectErrors: "minimal",
      renderer: ctx.renderer === "silent" ? "silent" : ctx.renderer === "simple" ? "simple" : "default",
      fallbackRenderer: "simple",
      // Every finished step says how long it took, so a long run shows where its time went.
      rendererOptions: { collapseSubtasks: false, showErrorMessage: true, timer: PRESET_TIMER },
      fallbackRendererOptions: { timer: PRESET_TIMER },
    },
  );
  await list.run();

  // Whatever happened, no service of this run stays up unless the policy says so.
  await sweepLiveServices(ctx, (message) => tally.warnings.push(message));
  return summarize(ctx, tally);
}

function stopped(ctx: RunContext, tally: RunTally): boolean {
  return ctx.graceful.aborted || tally.fatal !== undefined;
}

function buildTask(ctx: RunContext, tally: RunTally, image: Plan["images"][number]): ListrTask {
  return {
    title: `build image ${image.name}`,
    skip: () => stopped(ctx, tally),
    task: async (_, task) => {
      const known = ctx.journal.state.images[image.name]?.uri;
      if (known) {
        tally.imageRefs.set(image.name, { kind: "uri", uri: known });
        task.title = `image ${image.name}: ${known} (built earlier in this run)`;
        return;
      }
      try {
        const uri = await ctx.target.buildImage!(image, containerfilePath(image), ctx.graceful);
        await ctx.journal.append({ type: "image_built", image: image.name, uri });
        tally.imageRefs.set(image.name, { kind: "uri", uri });
        task.title = `image ${image.name}: ${uri}`;
      } catch (error) {
        await ctx.journal.append({ type: "image_failed", image: image.name, error: describeError(error) });
        tally.imageErrors.set(image.name, describeError(error));
        if (isFatal(error)) tally.fatal ??= error;
        throw error;
      }
    },
  };
}

function cellTask(ctx: RunContext, tally: RunTally, cell: Cell, index: number): ListrTask {
  return {
    title: `[${index + 1}/${ctx.cells.length}] ${cellTitle(cell)}`,
    skip: () => {
      if (stopped(ctx, tally)) return `${cell.serviceName}: skipped (run stopped)`;
      const state = ctx.journal.state.cells.find((c) => c.id === cell.id);
      if (state?.outcome === "succeeded") {
        tally.cellOutcomes.set(cell.id, { id: cell.id, serviceName: cell.serviceName, outcome: "succeeded" });
        return `${cell.serviceName}: done in an earlier attempt`;
      }
      return false;
    },
    task: (_, task) =>
      task.newListr(cellSteps(ctx, tally, cell), {
        concurrent: false,
        exitOnError: true,
        exitAfterRollback: true,
      }),
  };
}

/** The steps of one cell, render to teardown, on a runner of its own. */
function cellSteps(ctx: RunContext, tally: RunTally, cell: Cell): ListrTask[] {
  const runner = new CellRunner({
    plan: ctx.plan,
    cell,
    folder: ctx.folder,
    journal: ctx.journal,
    target: ctx.target,
    probe: ctx.probe,
    bench: ctx.bench,
    clock: ctx.clock,
    imageRef: tally.imageRefs.get(cell.image.name) ?? defaultImageRef(cell.image),
    planDir: ctx.planDir,
    graceful: ctx.graceful,
    urgent: ctx.urgent,
    keepServices: ctx.keepServices,
    warn: (message) => tally.warnings.push(message),
  });
  // Records how the cell ended; an interrupted cell stays unfinished, for a resume to pick up.
  const finishCell = async () => {
    if (runner.failure instanceof Interrupted) return;
    const failed = runner.failure !== undefined;
    tally.cellOutcomes.set(cell.id, {
      id: cell.id,
      serviceName: cell.serviceName,
      outcome: failed ? "failed" : "succeeded",
      ...(failed ? { error: describeError(runner.failure) } : {}),
    });
    await ctx.journal.append({
      type: "cell_finished",
      cell: cell.id,
      outcome: failed ? "failed" : "succeeded",
    });
  };
  // A teardown that fails fails the cell: its service may still be up.
  const tearDown = async (t: { title: string }) => {
    let outcome: TeardownOutcome = "nothing_to_do";
    try {
      await runner.runStep("teardown", async () => {
        outcome = await runner.teardown();
      });
      t.title = teardownTitle(outcome, cell, runner.failure);
    } finally {
      await finishCell();
    }
  };

  // A step that fails stops the cell; its rollback tears the service down (per the policy).
  // Ctrl-C is no failure: the step says it was interrupted, the steps after it are skipped,
  // and the cell's own teardown step runs as it always does.
  const step = (name: CellStep, work: (t: { output: string }) => Promise<void>): ListrTask => ({
    title: STEP_TITLES[name],
    skip: () => {
      if (runner.isDone(name)) return `${STEP_TITLES[name]}: done in an earlier attempt`;
      return ctx.graceful.aborted ? `${STEP_TITLES[name]}: not started (interrupted)` : false;
    },
    task: async (_c, t) => {
      try {
        await runner.runStep(name, () => work(t));
      } catch (error) {
        if (error instanceof Interrupted) {
          t.skip(`${STEP_TITLES[name]}: interrupted`);
          return;
        }
        if (isFatal(error)) tally.fatal ??= error;
        throw error;
      }
    },
    rollback: async (_c, t) => tearDown(t),
  });

  const imageError = tally.imageErrors.get(cell.image.name);
  return [
    step("render", async () => {
      if (imageError) throw new ExternalError(`image ${cell.image.name} was not built: ${imageError}`);
      await runner.render();
    }),
    step("deploy", () => runner.deploy()),
    step("wait", () => runner.waitReady()),
    step("ready", async (t) => {
      t.output = await runner.checkReady();
    }),
    step("bench", (t) => runner.bench(throttledProgress(t, ctx.clock))),
    { title: STEP_TITLES.teardown, task: async (_c, t) => tearDown(t) },
  ];
}

/** After the last cell: how each ended, what is still up, the report, and the run's outcome. */
async function summarize(ctx: RunContext, tally: RunTally): Promise<RunSummary> {
  const { warnings, fatal } = tally;
  const state = ctx.journal.state;
  const cells = ctx.cells.map(
    (cell) =>
      tally.cellOutcomes.get(cell.id) ?? {
        id: cell.id,
        serviceName: cell.serviceName,
        outcome: "skipped" as const,
      },
  );
  const leftRunning = servicesLeftRunning(state);

  let reportDir: string | undefined;
  let answer: string | undefined;
  if (state.cells.some((c) => c.levelsDone.length > 0)) {
    try {
      await ctx.folder.markFinished(new Date(ctx.clock.toEpochMs(ctx.clock.now())));
      const built = await ctx.report.build(ctx.folder.dir);
      reportDir = built.dir;
      answer = built.answer;
      await ctx.journal.append({ type: "report_written", dir: reportDir });
    } catch (error) {
      warnings.push(`the report could not be built: ${describeError(error)}`);
    }
  }

  // A service left up by accident (not by policy) fails the run, even when every cell measured.
  const leftByAccident = leftRunning.some((s) => s.reason !== KEPT_BY_POLICY);
  const outcome: RunSummary["outcome"] = ctx.graceful.aborted
    ? "interrupted"
    : cells.every((c) => c.outcome === "succeeded") && !leftByAccident
      ? "succeeded"
      : "failed";
  if (outcome === "interrupted")
    await ctx.journal.append({ type: "run_interrupted", signal: String(ctx.graceful.reason ?? "SIGINT") });
  else await ctx.journal.append({ type: "run_finished", outcome });
  if (fatal && outcome !== "interrupted") {
    const hint = fatal instanceof ExternalError && fatal.hint ? `\n  hint: ${fatal.hint}` : "";
    warnings.push(`the run stopped early: ${describeError(fatal)}${hint}`);
  }

  const levelsKept = state.cells.reduce((sum, c) => sum + c.levelsDone.length, 0);
  const summary: RunSummary = { outcome, cells, leftRunning, levelsKept, warnings };
  if (reportDir) summary.reportDir = reportDir;
  if (answer) summary.answer = answer;
  return summary;
}

/** The reason of a service left up on purpose (`teardown: never`, `--keep-services`, …). */
export const KEPT_BY_POLICY = "kept by policy";

/**
 * Services still up when the run ends: by the plan's policy, or by accident (a teardown that did
 * not complete, a service the run lost track of), which fails the run.
 */
function servicesLeftRunning(state: RunState): RunSummary["leftRunning"] {
  return state.cells
    .filter((c) => c.service === "left_running" || c.service === "deployed")
    .map((c) => ({
      serviceName: c.serviceName,
      reason: c.service === "deployed" ? "teardown did not complete" : (c.lostTrack ?? KEPT_BY_POLICY),
    }));
}

/** Images a run builds: those the plan does not give a URI for and does not deploy from a Containerfile. */
function imagesToBuild(ctx: RunContext) {
  if (!ctx.target.buildImage) return [];
  const used = new Set(ctx.cells.map((c) => c.image.name));
  return ctx.plan.images.filter((i) => used.has(i.name) && !i.image_uri && i.build === "image-build");
}

/**
 * A service recorded as deployed but not torn down (a failure during teardown, or an earlier
 * crash): every one is tried, in parallel (bounded), and only while its id is the one recorded.
 */
async function sweepLiveServices(ctx: RunContext, warn: (m: string) => void): Promise<void> {
  const policy = ctx.keepServices ? "never" : ctx.plan.teardown;
  const interrupted = ctx.graceful.aborted;
  const due = ctx.journal.state.cells.filter(
    (cell) =>
      cell.service === "deployed" &&
      policy !== "never" &&
      !(policy === "on-success" && !interrupted && cell.outcome === "failed"),
  );
  await settleBounded(due, TEARDOWN_PARALLELISM, async (cell) => {
    try {
      if (ctx.urgent.aborted && ctx.target.sendTerminate) {
        await ctx.target.sendTerminate(cell.serviceName, ownerOf(cell));
        warn(`terminate sent for ${cell.serviceName} but not confirmed (second Ctrl-C)`);
        return;
      }
      await ctx.target.terminate(
        cell.serviceName,
        ctx.clock.now() + ctx.plan.deploy.terminate_timeout_s * 1000,
        ctx.urgent,
        ownerOf(cell),
      );
      await ctx.journal.append({ type: "service_terminated", cell: cell.id, serviceName: cell.serviceName });
    } catch (error) {
      if (error instanceof NotOurService) {
        await ctx.journal.append(notOursEvent(cell, error));
        warn(error.message);
        return;
      }
      warn(`could not confirm that ${cell.serviceName} was terminated: ${describeError(error)}`);
    }
  });
}

/** Auth failures will fail every cell; stop instead of burning through the plan. */
function isFatal(error: unknown): boolean {
  return error instanceof ExternalError && error.kind === "auth";
}

function cellTitle(cell: Cell): string {
  const clients = `${cell.scale.clients} client${cell.scale.clients === 1 ? "" : "s"}`;
  return `${cell.serviceName} (${cell.scale.replicas}× LLM, ${cell.scale.ingress_replicas}× ingress, ${clients})`;
}

function teardownTitle(outcome: TeardownOutcome, cell: Cell, failure: unknown): string {
  const when =
    failure === undefined
      ? ""
      : failure instanceof Interrupted
        ? "after the interrupt, "
        : "after the failure, ";
  if (outcome === "terminated") return `tear down: ${when}${cell.serviceName} terminated`;
  if (outcome === "left_running") return `tear down: ${when}${cell.serviceName} LEFT RUNNING`;
  if (outcome === "not_ours")
    return `tear down: ${cell.serviceName} now belongs to someone else (another id); left alone`;
  return `tear down: ${when}nothing was running`;
}

/** Progress as task output: often enough to watch, not so often that plain-line output floods. */
function throttledProgress(task: { output: string }, clock: Clock): (p: BenchProgress) => void {
  let lastAt = 0;
  let last = "";
  let lastLevel = "";
  return (p) => {
    const now = clock.now();
    const levelChanged = p.level !== lastLevel;
    if (!levelChanged && p.done < p.total && now - lastAt < 2_000) return;
    const line = formatBenchProgress(p, clock.toEpochMs(now));
    if (line === last) return;
    lastAt = now;
    lastLevel = p.level;
    last = line;
    task.output = line;
  };
}
