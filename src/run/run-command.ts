import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { formatSeconds } from "../bench/progress.js";
import { wallClock } from "../clock.js";
import { ExternalError, Interrupted } from "../errors.js";
import { listenForInterrupts } from "../interrupt.js";
import { cliCommand } from "../invocation.js";
import { type Cell, expandCells, parseCellFilter } from "../plan/expand.js";
import { loadPlan } from "../plan/load.js";
import type { Plan } from "../plan/resolve.js";
import { formatPreview, previewRun } from "../render/preview.js";
import { compareWithDisk, renderPlanFiles, type WriteStatus, writeRenderedFiles } from "../render/write.js";
import { repeatsAdvice } from "../report/repeats-advice.js";
import { TWIN_FILE } from "../report/twin.js";
import type { Reporter } from "../reporter.js";
import { anyscalePreflight } from "../targets/anyscale-preflight.js";
import { cellTimes, predictionForRun } from "../twin/predict.js";
import { JOURNAL_FORMAT_VERSION, Journal } from "./journal.js";
import { acquireRunLock } from "./lock.js";
import { executeRun, KEPT_BY_POLICY, type RunSummary } from "./pipeline.js";
import type { BuildingTarget } from "./ports.js";
import { createRunFolder, type RunFolder } from "./run-folder.js";
import { checkPlanWorkloadFile, describeWorkloadFile } from "./workload-file-check.js";

export interface RunOptions {
  dryRun?: boolean;
  /** `--no-write`: with --dry-run, show the service configs without writing them. */
  write?: boolean;
  target?: "anyscale" | "local";
  only: string[];
  keepServices?: boolean;
  /** Accept an anyscale CLI below the version floor. */
  allowCliVersion?: boolean;
  resultsDir: string;
  json?: boolean;
}

/** `orchestrate run PLAN`: preflight, a new run folder, then the pipeline. */
export async function runCommand(planPath: string, options: RunOptions, reporter: Reporter): Promise<void> {
  const loaded = loadPlan(planPath, options.target ? { target: options.target } : {});
  const { plan } = loaded;
  for (const note of loaded.notes) reporter.note(`note: ${note}`);
  const cells = expandCells(plan, options.only.map(parseCellFilter));
  // Every row of a dataset or trace is checked before anything is deployed or written.
  const workloadFile = await checkPlanWorkloadFile(plan, dirname(resolve(planPath)));
  if (workloadFile) reporter.note(describeWorkloadFile(workloadFile));
  if (options.dryRun) {
    await dryRun(plan, cells, options, reporter);
    return;
  }

  // Before anything exists: a machine that cannot deploy says so in seconds.
  const preflight =
    plan.target === "anyscale"
      ? await anyscalePreflight(process.env, undefined, { allowCliVersion: options.allowCliVersion ?? false })
      : undefined;
  // Predicted before anything starts, so a broken profile costs nothing and the report can compare.
  const prediction = await predictionForRun(plan, cells);
  const folder = await createRunFolder(options.resultsDir, plan, readFileSync(planPath, "utf8"), new Date(), {
    ...(preflight ? { anyscaleCli: preflight.cliVersion } : {}),
    ...(workloadFile ? { workloadFile } : {}),
  });
  if (prediction) await folder.writeFile(TWIN_FILE, `${JSON.stringify(prediction, null, 2)}\n`);
  // The images' Containerfiles sit in the run folder, where the CLI (and the local target) find them.
  for (const file of renderPlanFiles(plan, cells).filter((f) => f.kind === "containerfile")) {
    await folder.writeFile(file.path, file.content);
  }
  const lock = acquireRunLock(folder.dir);
  try {
    const journal = await Journal.create(folder.dir, {
      type: "run_started",
      format: JOURNAL_FORMAT_VERSION,
      runId: folder.runId,
      planName: plan.name,
      // Absolute, so that `resume` re-reads the very file (and its .env) from anywhere.
      planPath: resolve(planPath),
      planHash: loaded.hash,
      target: plan.target,
      cells: cells.map((c) => ({ id: c.id, serviceName: c.serviceName })),
    });
    reporter.note(`Run folder: ${folder.dir}`);
    if (prediction) {
      reporter.note(
        `The twin expects ${cells.length === 1 ? "the cell" : `the ${cells.length} cells`} to take about ${formatSeconds(prediction.duration_s)} (${cliCommand("predict", planPath)} shows each).`,
      );
    }
    if (preflight) reporter.note(`Anyscale CLI: ${preflight.cliVersion}`);
    const summary = await runWithInterrupts(
      plan,
      dirname(resolve(planPath)),
      cells,
      folder,
      journal,
      options.keepServices ?? false,
      reporter,
    );
    finish(summary, folder, reporter);
  } finally {
    lock.release();
  }
}

/**
 * The dry run renders: each service config is written into its image's configs folder exactly as
 * `render` writes it (files whose content is unchanged are left alone), then the commands a run
 * would execute are printed. `--no-write` only shows what would be written. Nothing is deployed or
 * built, and no credentials are needed.
 */
async function dryRun(plan: Plan, cells: Cell[], options: RunOptions, reporter: Reporter): Promise<void> {
  const configs = renderPlanFiles(plan, cells).filter((f) => f.kind === "service-config");
  const root = resolve(".");
  const write = options.write !== false;
  const files = write
    ? await writeRenderedFiles(root, configs)
    : configs.map((file) => ({ file, status: compareWithDisk(root, file) }));
  const prediction = await predictionForRun(plan, cells);
  const preview = previewRun(plan, cells, undefined, prediction && cellTimes(prediction));
  if (options.json) {
    const listed = files.map(({ file, status }) => ({
      path: file.path,
      status,
      written: write && status !== "unchanged",
    }));
    reporter.result(JSON.stringify({ files: listed, preview, prediction }, null, 2));
    return;
  }
  const lines = [formatPreview(preview), "", repeatsAdvice(plan.benchmark), ""];
  lines.push(
    write
      ? "Service configs, rendered into this folder as `orchestrate render` does:"
      : "Service configs (--no-write: nothing written):",
  );
  for (const { file, status } of files) lines.push(`  ${renderedStatus(status, write)} ${file.path}`);
  lines.push("", "Dry run: nothing was deployed or built.");
  reporter.result(lines.join("\n"));
}

function renderedStatus(status: WriteStatus, written: boolean): string {
  if (status === "unchanged") return "unchanged          ";
  const change = status === "created" ? "(new)    " : "(changed)";
  return `${written ? "written    " : "would write"} ${change}`;
}

/** Runs the pipeline with Ctrl-C wired to its two stop signals. Shared by run and resume. */
export async function runWithInterrupts(
  plan: Plan,
  planDir: string,
  cells: Cell[],
  folder: RunFolder,
  journal: Journal,
  keepServices: boolean,
  reporter: Reporter,
  before?: (target: BuildingTarget) => Promise<void>,
): Promise<RunSummary> {
  const { benchRunner, createTarget, readinessProbe, reportBuilder } = await import("./adapters.js");
  const interrupts = listenForInterrupts((count) => {
    // The leading newline ends the progress line the interrupt cut into.
    if (count === 1) {
      reporter.note(
        "\nStopping: no new requests; saving what was measured, then tearing the services down. Ctrl-C again to cancel the requests in flight and stop waiting for teardown to be confirmed.",
      );
    } else if (count === 2) {
      reporter.note(
        "\nCancelling the requests in flight; not waiting for teardown to be confirmed, but terminate requests are still sent. Ctrl-C once more to quit at once.",
      );
    }
  });
  const target = createTarget(plan, folder, (message) => reporter.note(message));
  try {
    if (before) await before(target);
    return await executeRun({
      plan,
      planDir,
      cells,
      folder,
      journal,
      target,
      probe: readinessProbe,
      bench: benchRunner,
      report: reportBuilder,
      clock: wallClock,
      graceful: interrupts.graceful,
      urgent: interrupts.urgent,
      keepServices,
    });
  } finally {
    interrupts.dispose();
    await target.terminateAll?.();
  }
}

/**
 * How much was measured. An interrupted run may have finished no cell yet hold most of its
 * levels, which a resume keeps, so it counts those too.
 */
function measuredLine(summary: RunSummary, cellsDone: number): string {
  const cells = `${cellsDone} of ${summary.cells.length} cells measured`;
  if (summary.outcome !== "interrupted") return `${cells}.`;
  const levels = `${summary.levelsKept} benchmark level${summary.levelsKept === 1 ? "" : "s"}`;
  return `Interrupted: ${cells} in full; ${levels} measured so far ${summary.levelsKept === 1 ? "is" : "are"} kept, and a resume does not run them again.`;
}

/** Prints the outcome; services left running are said loudly. Throws for exit codes 1 and 130. */
export function finish(summary: RunSummary, folder: RunFolder, reporter: Reporter): void {
  const lines: string[] = [""];
  const failed = summary.cells.filter((c) => c.outcome === "failed");
  const done = summary.cells.filter((c) => c.outcome === "succeeded");
  if (summary.answer) lines.push(summary.answer, "");
  lines.push(measuredLine(summary, done.length));
  for (const cell of failed) lines.push(`  FAILED ${cell.serviceName}: ${cell.error ?? "unknown error"}`);
  if (summary.reportDir)
    lines.push(`Report: ${summary.reportDir}/report.html (also report.md, summary.csv, charts/)`);
  for (const warning of summary.warnings) lines.push(`warning: ${warning}`);
  if (summary.leftRunning.length > 0) {
    lines.push(
      "",
      "!!! SERVICES LEFT RUNNING — they keep costing money until you terminate them:",
      ...summary.leftRunning.map((s) => `!!!   ${s.serviceName} (${s.reason})`),
      `!!! ${cliCommand("teardown", folder.dir)}`,
    );
  }
  reporter.result(lines.join("\n"));
  if (summary.outcome === "interrupted") {
    throw new Interrupted(`run stopped; continue it with: ${cliCommand("resume", folder.dir)}`);
  }
  if (summary.outcome === "failed") {
    const reasons: string[] = [];
    if (failed.length > 0) reasons.push(`${failed.length} of ${summary.cells.length} cells failed`);
    const skipped = summary.cells.filter((c) => c.outcome === "skipped").length;
    if (skipped > 0) reasons.push(`${skipped} of ${summary.cells.length} cells did not run`);
    const stranded = summary.leftRunning.filter((s) => s.reason !== KEPT_BY_POLICY);
    if (stranded.length > 0)
      reasons.push(
        `${stranded.length} ${stranded.length === 1 ? "service was" : "services were"} not confirmed down: ${stranded.map((s) => s.serviceName).join(", ")}`,
      );
    throw new ExternalError(reasons.join("; "), {
      hint:
        stranded.length > 0
          ? `terminate them with ${cliCommand("teardown", folder.dir)}; then see ${cliCommand("status", folder.dir)}`
          : `see ${cliCommand("status", folder.dir)}; fix the cause and continue with ${cliCommand("resume", folder.dir)}`,
    });
  }
}
