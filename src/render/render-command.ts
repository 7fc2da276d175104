import { resolve } from "node:path";
import { ExternalError } from "../errors.js";
import { cliCommand } from "../invocation.js";
import { expandCells, parseCellFilter } from "../plan/expand.js";
import { loadPlan } from "../plan/load.js";
import type { Reporter } from "../reporter.js";
import { formatPreview, previewRun } from "./preview.js";
import { compareWithDisk, renderPlanFiles, writeRenderedFiles } from "./write.js";

/** `orchestrate render PLAN`: write (or check) the rendered files, then show what a run would do. */
export interface RenderOptions {
  out: string;
  check?: boolean;
  target?: "anyscale" | "local";
  only: string[];
  json?: boolean;
}

export async function renderCommand(
  planPath: string,
  options: RenderOptions,
  reporter: Reporter,
): Promise<void> {
  const { plan, notes } = loadPlan(planPath, options.target ? { target: options.target } : {});
  for (const note of notes) reporter.note(`note: ${note}`);
  const cells = expandCells(plan, options.only.map(parseCellFilter));
  const files = renderPlanFiles(plan, cells);
  const root = resolve(options.out);

  if (options.check) {
    const stale = files
      .map((file) => ({ file, status: compareWithDisk(root, file) }))
      .filter((r) => r.status !== "unchanged");
    if (options.json)
      reporter.result(
        `${JSON.stringify({ stale: stale.map((s) => ({ path: s.file.path, status: s.status })) }, null, 2)}`,
      );
    if (stale.length > 0) {
      throw new ExternalError(
        `${stale.length} rendered ${stale.length === 1 ? "file is" : "files are"} out of date with ${planPath}`,
        {
          kind: "validation",
          hint: `${stale.map((s) => `${s.file.path} (${s.status === "created" ? "missing" : "differs"})`).join(", ")}; run \`${cliCommand("render", planPath)}\``,
        },
      );
    }
    if (!options.json) reporter.result(`All ${files.length} rendered files are up to date with ${planPath}.`);
    return;
  }

  const written = await writeRenderedFiles(root, files);
  if (options.json) {
    const preview = previewRun(plan, cells);
    reporter.result(
      `${JSON.stringify({ files: written.map((w) => ({ path: w.file.path, status: w.status })), preview }, null, 2)}`,
    );
    return;
  }
  const lines = [`Rendered ${files.length} files into ${root}:`];
  for (const { file, status } of written) lines.push(`  ${status.padEnd(9)} ${file.path}`);
  lines.push("", formatPreview(previewRun(plan, cells)));
  reporter.result(lines.join("\n"));
}
