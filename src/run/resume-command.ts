import { existsSync } from "node:fs";
import { UserError } from "../errors.js";
import { expandCells } from "../plan/expand.js";
import { loadPlan } from "../plan/load.js";
import type { Plan } from "../plan/resolve.js";
import { Journal } from "./journal.js";
import { acquireRunLock } from "./lock.js";
import { reconcileWithReality } from "./reconcile.js";
import { finish, runWithInterrupts } from "./run-command.js";
import { RunFolder } from "./run-folder.js";

export interface ResumeOptions {
  allowPlanChange?: boolean;
  keepServices?: boolean;
}

/**
 * `orchestrate resume RUN_DIR`: re-check the real state of every service the journal mentions,
 * then continue from the first step not done. Finished benchmark levels are never re-run.
 */
export async function resumeCommand(dir: string, options: ResumeOptions): Promise<void> {
  const folder = new RunFolder(dir);
  const lock = acquireRunLock(folder.dir);
  try {
    const journal = Journal.open(folder.dir);
    const state = journal.state;
    if (state.status === "succeeded") {
      process.stdout.write(`Run ${state.runId} already finished successfully; nothing to resume.\n`);
      return;
    }
    const { plan, changed, hash } = planForResume(
      folder,
      state.planPath,
      state.planHash,
      options.allowPlanChange ?? false,
    );
    const ids = new Set(state.cells.map((c) => c.id));
    const cells = expandCells(plan).filter((c) => ids.has(c.id));
    const missing = [...ids].filter((id) => !cells.some((c) => c.id === id));
    if (missing.length > 0) {
      throw new UserError(`the plan no longer has cells ${missing.join(", ")} of this run`, {
        hint: "resume with the plan the run began with, or start a new run",
      });
    }
    await journal.append({ type: "run_resumed", planHash: hash, planChanged: changed });
    process.stderr.write(`Resuming ${folder.dir}\n`);
    const summary = await runWithInterrupts(
      plan,
      cells,
      folder,
      journal,
      options.keepServices ?? false,
      (target) =>
        reconcileWithReality(
          journal,
          target,
          () => Date.now() + plan.deploy.terminate_timeout_s * 1000,
          (message) => process.stderr.write(`${message}\n`),
        ),
    );
    finish(summary, folder);
  } finally {
    lock.release();
  }
}

/** The plan the run began with; an edited plan file is refused unless explicitly allowed. */
function planForResume(
  folder: RunFolder,
  planPath: string,
  planHash: string,
  allowChange: boolean,
): { plan: Plan; changed: boolean; hash: string } {
  const stored = folder.readPlan();
  if (!existsSync(planPath)) {
    process.stderr.write(`note: ${planPath} is gone; resuming with the plan stored in the run folder\n`);
    return { plan: stored, changed: false, hash: planHash };
  }
  const current = loadPlan(planPath, { target: stored.target });
  if (current.hash === planHash) return { plan: stored, changed: false, hash: planHash };
  if (!allowChange) {
    throw new UserError(`${planPath} has changed since this run began`, {
      hint: "results measured under two plans would be mixed in one report; pass --allow-plan-change to resume with the edited plan anyway, or start a new run",
    });
  }
  process.stderr.write(
    `note: ${planPath} changed since the run began; resuming with the edited plan (--allow-plan-change)\n`,
  );
  return { plan: current.plan, changed: true, hash: current.hash };
}
