import { readFileSync } from "node:fs";
import type { RunOptions } from "../commands/run.js";
import { ExternalError, Interrupted } from "../errors.js";
import { listenForInterrupts } from "../interrupt.js";
import { type Cell, expandCells, parseCellFilter } from "../plan/expand.js";
import { loadPlan } from "../plan/load.js";
import type { Plan } from "../plan/resolve.js";
import { renderPlanFiles } from "../render/write.js";
import { TWIN_FILE } from "../report/twin.js";
import { systemClock } from "../targets/clock.js";
import { cellTimes, predictionForRun } from "../twin/predict.js";
import { JOURNAL_FORMAT_VERSION, Journal } from "./journal.js";
import { acquireRunLock } from "./lock.js";
import { executeRun, type RunSummary } from "./pipeline.js";
import type { BuildingTarget } from "./ports.js";
import { formatPreview, previewRun } from "./preview.js";
import { createRunFolder, type RunFolder } from "./run-folder.js";

/** `orchestrate run PLAN`: a new run folder, then the pipeline. */
export async function runCommand(planPath: string, options: RunOptions): Promise<void> {
  const loaded = loadPlan(planPath, options.target ? { target: options.target } : {});
  const { plan } = loaded;
  const cells = expandCells(plan, options.only.map(parseCellFilter));
  if (options.dryRun) {
    // Rendering in memory proves every config can be produced, without writing anything.
    const files = renderPlanFiles(plan, cells);
    const prediction = await predictionForRun(plan, cells);
    const preview = previewRun(plan, cells, undefined, prediction && cellTimes(prediction));
    if (options.json) {
      const out = { files: files.map((f) => f.path), preview, prediction };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    } else {
      process.stdout.write(`${formatPreview(preview)}\n\nDry run: nothing was deployed, built or written.\n`);
    }
    return;
  }

  // Predicted before anything starts, so a broken profile costs nothing and the report can compare.
  const prediction = await predictionForRun(plan, cells);
  const folder = await createRunFolder(options.resultsDir, plan, readFileSync(planPath, "utf8"));
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
      planPath,
      planHash: loaded.hash,
      target: plan.target,
      cells: cells.map((c) => ({ id: c.id, serviceName: c.serviceName })),
    });
    process.stderr.write(`Run folder: ${folder.dir}\n`);
    const summary = await runWithInterrupts(plan, cells, folder, journal, options.keepServices ?? false);
    finish(summary, folder);
  } finally {
    lock.release();
  }
}

/** Runs the pipeline with Ctrl-C wired to its two stop signals. Shared by run and resume. */
export async function runWithInterrupts(
  plan: Plan,
  cells: Cell[],
  folder: RunFolder,
  journal: Journal,
  keepServices: boolean,
  before?: (target: BuildingTarget) => Promise<void>,
): Promise<RunSummary> {
  const { benchRunner, createTarget, readinessProbe, reportBuilder } = await import("./adapters.js");
  const interrupts = listenForInterrupts((count) => {
    process.stderr.write(
      count === 1
        ? "\nStopping: no new requests; saving what was measured, then tearing the services down. Ctrl-C again to stop waiting for teardown to be confirmed.\n"
        : count === 2
          ? "\nNot waiting for teardown to be confirmed; terminate requests are still sent. Ctrl-C once more to quit at once.\n"
          : "",
    );
  });
  const target = createTarget(plan, folder, (message) => process.stderr.write(`${message}\n`));
  try {
    if (before) await before(target);
    return await executeRun({
      plan,
      cells,
      folder,
      journal,
      target,
      probe: readinessProbe,
      bench: benchRunner,
      report: reportBuilder,
      clock: systemClock,
      graceful: interrupts.graceful,
      urgent: interrupts.urgent,
      keepServices,
    });
  } finally {
    interrupts.dispose();
    await target.terminateAll?.();
  }
}

/** Prints the outcome; services left running are said loudly. Throws for exit codes 1 and 130. */
export function finish(summary: RunSummary, folder: RunFolder): void {
  const lines: string[] = [""];
  const failed = summary.cells.filter((c) => c.outcome === "failed");
  const done = summary.cells.filter((c) => c.outcome === "succeeded");
  lines.push(`${done.length} of ${summary.cells.length} cells measured.`);
  for (const cell of failed) lines.push(`  FAILED ${cell.serviceName}: ${cell.error ?? "unknown error"}`);
  if (summary.reportDir)
    lines.push(`Report: ${summary.reportDir}/report.html (also report.md, summary.csv, charts/)`);
  for (const warning of summary.warnings) lines.push(`warning: ${warning}`);
  if (summary.leftRunning.length > 0) {
    lines.push(
      "",
      "!!! SERVICES LEFT RUNNING — they keep costing money until you terminate them:",
      ...summary.leftRunning.map((s) => `!!!   ${s.serviceName} (${s.reason})`),
      `!!! orchestrate teardown ${folder.dir}`,
    );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
  if (summary.outcome === "interrupted") {
    throw new Interrupted(`run stopped; continue it with: orchestrate resume ${folder.dir}`);
  }
  if (summary.outcome === "failed") {
    throw new ExternalError(`${failed.length} of ${summary.cells.length} cells failed`, {
      hint: `see orchestrate status ${folder.dir}; fix the cause and continue with orchestrate resume ${folder.dir}`,
    });
  }
}
