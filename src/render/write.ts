import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { UserError } from "../errors.js";
import { writeFileAtomic } from "../fs-atomic.js";
import type { Cell } from "../plan/expand.js";
import type { Plan } from "../plan/resolve.js";
import { redact } from "../secrets.js";
import { containerfilePath, renderContainerfile } from "./image.js";
import { defaultImageRef, type ImageRef, renderServiceConfig, type ServiceConfig } from "./service.js";

/** A file `render` produces, with its path relative to the render root. */
export interface RenderedFile {
  path: string;
  content: string;
  kind: "service-config" | "containerfile";
  cellId?: string;
}

export type WriteStatus = "created" | "updated" | "unchanged";

/**
 * Every file of a plan: one Containerfile per image that needs one, one service config per cell.
 * `imageRefs` replaces the default image reference per image (a run passes the URIs it built).
 */
export function renderPlanFiles(
  plan: Plan,
  cells: readonly Cell[],
  imageRefs: ReadonlyMap<string, ImageRef> = new Map(),
): RenderedFile[] {
  const files: RenderedFile[] = [];
  const imagesDone = new Set<string>();
  for (const cell of cells) {
    if (!imagesDone.has(cell.image.name) && !cell.image.image_uri) {
      imagesDone.add(cell.image.name);
      files.push({
        path: containerfilePath(cell.image),
        content: renderContainerfile(cell.image, plan.name),
        kind: "containerfile",
      });
    }
  }
  for (const cell of cells) {
    const config = renderServiceConfig(
      plan,
      cell,
      imageRefs.get(cell.image.name) ?? defaultImageRef(cell.image),
    );
    files.push({
      path: cell.configPath,
      content: serviceConfigYaml(config, plan.name),
      kind: "service-config",
      cellId: cell.id,
    });
  }
  for (const file of files) refuseSecrets(file);
  return files;
}

export function serviceConfigYaml(config: ServiceConfig, planName: string): string {
  const header =
    `# Anyscale service config rendered by orchestrate from plan "${planName}".\n` +
    "# Do not edit: change the plan and run `orchestrate render`. Deploy from this folder's parent:\n" +
    `#   anyscale service deploy -f <this file>\n`;
  return header + stringify(config, { lineWidth: 0, minContentWidth: 0, sortMapEntries: false });
}

/** Writes the files under `root`, touching only those whose content changed. */
export async function writeRenderedFiles(
  root: string,
  files: readonly RenderedFile[],
): Promise<Array<{ file: RenderedFile; status: WriteStatus }>> {
  const results: Array<{ file: RenderedFile; status: WriteStatus }> = [];
  for (const file of files) {
    const status = compareWithDisk(root, file);
    if (status !== "unchanged") await writeFileAtomic(join(root, file.path), file.content);
    results.push({ file, status });
  }
  return results;
}

/** What writing would change, without writing (for `render --check` and the staleness test). */
export function compareWithDisk(root: string, file: RenderedFile): WriteStatus {
  const path = join(root, file.path);
  if (!existsSync(path)) return "created";
  return readFileSync(path, "utf8") === file.content ? "unchanged" : "updated";
}

/** A plan may reference ${SECRET} by mistake; a rendered file is committed, so it must never hold one. */
function refuseSecrets(file: RenderedFile): void {
  if (redact(file.content) !== file.content) {
    throw new UserError(`${file.path} would contain a secret (an API key or token from the environment)`, {
      hint: "remove the reference to that variable from the plan; secrets reach services at deploy time, never through rendered files",
    });
  }
}
