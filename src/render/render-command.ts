import { resolve } from "node:path";
import type { RenderOptions } from "../commands/render.js";
import { ExternalError } from "../errors.js";
import { expandCells, parseCellFilter } from "../plan/expand.js";
import { loadPlan } from "../plan/load.js";
import { compareWithDisk, renderPlanFiles, writeRenderedFiles } from "../render/write.js";
import { formatPreview, previewRun } from "./preview.js";

/** `orchestrate render PLAN`: write (or check) the rendered files, then show what a run would do. */
export async function renderCommand(planPath: string, options: RenderOptions): Promise<void> {
  const { plan, notes } = loadPlan(planPath, options.target ? { target: options.target } : {});
  for (const note of notes) process.stderr.write(`note: ${note}\n`);
  const cells = expandCells(plan, options.only.map(parseCellFilter));
  const files = renderPlanFiles(plan, cells);
  const root = resolve(options.out);

  if (options.check) {
    const stale = files
      .map((file) => ({ file, status: compareWithDisk(root, file) }))
      .filter((r) => r.status !== "unchanged");
    if (options.json)
      process.stdout.write(
        `${JSON.stringify({ stale: stale.map((s) => ({ path: s.file.path, status: s.status })) }, null, 2)}\n`,
      );
    if (stale.length > 0) {
      throw new ExternalError(
        `${stale.length} rendered ${stale.length === 1 ? "file is" : "files are"} out of date with ${planPath}`,
        {
          kind: "validation",
          hint: `${stale.map((s) => `${s.file.path} (${s.status === "created" ? "missing" : "differs"})`).join(", ")}; run \`orchestrate render ${planPath}\``,
        },
      );
    }
    if (!options.json)
      process.stdout.write(`All ${files.length} rendered files are up to date with ${planPath}.\n`);
    return;
  }

  const written = await writeRenderedFiles(root, files);
  if (options.json) {
    const preview = previewRun(plan, cells);
    process.stdout.write(
      `${JSON.stringify({ files: written.map((w) => ({ path: w.file.path, status: w.status })), preview }, null, 2)}\n`,
    );
    return;
  }
  const lines = [`Rendered ${files.length} files into ${root}:`];
  for (const { file, status } of written) lines.push(`  ${status.padEnd(9)} ${file.path}`);
  lines.push("", formatPreview(previewRun(plan, cells)));
  process.stdout.write(`${lines.join("\n")}\n`);
}
