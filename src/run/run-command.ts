import type { RunOptions } from "../commands/run.js";
import { UserError } from "../errors.js";
import { expandCells, parseCellFilter } from "../plan/expand.js";
import { loadPlan } from "../plan/load.js";
import { renderPlanFiles } from "../render/write.js";
import { formatPreview, previewRun } from "./preview.js";

/** `orchestrate run PLAN`. */
export async function runCommand(planPath: string, options: RunOptions): Promise<void> {
  const { plan } = loadPlan(planPath, options.target ? { target: options.target } : {});
  const cells = expandCells(plan, options.only.map(parseCellFilter));
  if (options.dryRun) {
    // Rendering in memory proves every config can be produced, without writing anything.
    const files = renderPlanFiles(plan, cells);
    const preview = previewRun(plan, cells);
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ files: files.map((f) => f.path), preview }, null, 2)}\n`);
    } else {
      process.stdout.write(`${formatPreview(preview)}\n\nDry run: nothing was deployed, built or written.\n`);
    }
    return;
  }
  throw new UserError("running a plan for real arrives with the pipeline (issue 5); use --dry-run for now");
}
