import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { UserError } from "../errors.js";
import { expandCells } from "../plan/expand.js";
import { loadPlan } from "../plan/load.js";
import type { Plan } from "../plan/resolve.js";
import type { Reporter } from "../reporter.js";
import { anyscalePreflight } from "../targets/anyscale-preflight.js";
import { Journal, type RunState } from "./journal.js";
import { acquireRunLock } from "./lock.js";
import { reconcileWithReality } from "./reconcile.js";
import { finish, runWithInterrupts } from "./run-command.js";
import { openRunFolder } from "./run-folder.js";

export interface ResumeOptions {
  allowPlanChange?: boolean;
  keepServices?: boolean;
  /** Accept an anyscale CLI below the version floor. */
  allowCliVersion?: boolean;
}

/**
 * `orchestrate resume RUN_DIR`: re-check the real state of every service the journal mentions,
 * then continue from the first step not done. Finished benchmark levels are never re-run.
 */
export async function resumeCommand(dir: string, options: ResumeOptions, reporter: Reporter): Promise<void> {
  const folder = openRunFolder(dir);
  const lock = acquireRunLock(folder.dir);
  try {
    const journal = Journal.open(folder.dir, (m) => reporter.note(`warning: ${m}`));
    const state = journal.state;
    if (state.status === "succeeded") {
      reporter.result(`Run ${state.runId} already finished successfully; nothing to resume.`);
      return;
    }
    const { plan, changed, hash, path } = planForResume(state, options.allowPlanChange ?? false, reporter);
    if (plan.target === "anyscale")
      await anyscalePreflight(process.env, undefined, { allowCliVersion: options.allowCliVersion ?? false });
    const ids = new Set(state.cells.map((c) => c.id));
    const cells = expandCells(plan).filter((c) => ids.has(c.id));
    const missing = [...ids].filter((id) => !cells.some((c) => c.id === id));
    if (missing.length > 0) {
      throw new UserError(`the plan no longer has cells ${missing.join(", ")} of this run`, {
        hint: "resume with the plan the run began with, or start a new run",
      });
    }
    await journal.append({ type: "run_resumed", planHash: hash, planChanged: changed });
    reporter.note(`Resuming ${folder.dir}`);
    const summary = await runWithInterrupts(
      plan,
      dirname(path),
      cells,
      folder,
      journal,
      options.keepServices ?? false,
      reporter,
      (target) =>
        reconcileWithReality(
          journal,
          target,
          () => Date.now() + plan.deploy.terminate_timeout_s * 1000,
          (message) => reporter.note(message),
        ),
    );
    finish(summary, folder, reporter);
  } finally {
    lock.release();
  }
}

/**
 * The plan file the run began with, read again with its .env (the copy in the run folder has its
 * secrets masked, so it cannot deploy). An edited plan is refused unless explicitly allowed.
 */
function planForResume(
  state: RunState,
  allowChange: boolean,
  reporter: Reporter,
): { plan: Plan; changed: boolean; hash: string; path: string } {
  const path = resolve(state.planPath);
  if (!existsSync(path)) {
    throw new UserError(`the plan this run began with, ${state.planPath}, is gone`, {
      hint: "put the plan file back where it was (resume re-reads it and its .env; the copy in the run folder has its secrets masked), or start a new run",
    });
  }
  const current = loadPlan(path, { target: state.target });
  if (current.hash === state.planHash)
    return { plan: current.plan, changed: false, hash: current.hash, path };
  if (!allowChange) {
    throw new UserError(`${state.planPath} has changed since this run began`, {
      hint: "results measured under two plans would be mixed in one report; pass --allow-plan-change to resume with the edited plan anyway, or start a new run",
    });
  }
  reporter.note(
    `note: ${state.planPath} changed since the run began; resuming with the edited plan (--allow-plan-change)`,
  );
  return { plan: current.plan, changed: true, hash: current.hash, path };
}
