import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { cliCommand } from "../invocation.js";
import type { Reporter } from "../reporter.js";
import { judgeOwnership } from "../targets/target.js";
import {
  CELL_STEPS,
  deriveState,
  describeForeign,
  identityOf,
  type RunState,
  readJournal,
  STATE_FILE,
} from "./journal.js";
import { lockHolder } from "./lock.js";
import type { BuildingTarget } from "./ports.js";
import { openRunFolder } from "./run-folder.js";

/**
 * `orchestrate status [RUN_DIR]`: without a folder, every run under the results folder with its
 * state; with one, its cells, their steps and levels, and which of its services are still alive.
 */
export interface StatusOptions {
  resultsDir: string;
  json?: boolean;
}

export function listRuns(resultsDir: string): Array<{ dir: string; state: RunState; activePid?: number }> {
  if (!existsSync(resultsDir)) return [];
  return readdirSync(resultsDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(resultsDir, e.name, STATE_FILE)))
    .map((e) => {
      const dir = resolve(resultsDir, e.name);
      const state = JSON.parse(readFileSync(join(dir, STATE_FILE), "utf8")) as RunState;
      const pid = lockHolder(dir);
      return pid === undefined ? { dir, state } : { dir, state, activePid: pid };
    })
    .sort((a, b) => a.state.updatedAt.localeCompare(b.state.updatedAt));
}

export function formatRunList(runs: ReturnType<typeof listRuns>, resultsDir: string): string {
  if (runs.length === 0)
    return `No runs under ${resultsDir}/ yet. Start one with: ${cliCommand("run", "plans/local.yaml")}`;
  const rows = runs.map(({ dir, state, activePid }) => {
    const done = state.cells.filter((c) => c.outcome === "succeeded").length;
    const live = state.cells.filter((c) => c.service === "deployed" || c.service === "left_running").length;
    const status = activePid !== undefined ? `running (pid ${activePid})` : state.status;
    const services = live > 0 ? `, ${live} service${live === 1 ? "" : "s"} possibly up` : "";
    return `${dir.split("/").pop()}  ${status}  ${done}/${state.cells.length} cells done${services}  (${state.target}, ${state.updatedAt})`;
  });
  return rows.join("\n");
}

export interface LiveService {
  cell: string;
  serviceName: string;
  state: string;
}

/** Asks the target about every service the journal says may still be up. */
export async function liveServices(state: RunState, target: BuildingTarget): Promise<LiveService[]> {
  const live: LiveService[] = [];
  for (const cell of state.cells) {
    if (cell.service !== "deployed" && cell.service !== "left_running") continue;
    if (cell.lostTrack) {
      live.push({ cell: cell.id, serviceName: cell.serviceName, state: "UNKNOWN (not reachable by name)" });
      continue;
    }
    const status = await target.status(cell.serviceName);
    // A service of this name with another id or version is someone else's, not one of ours still up.
    if (judgeOwnership(status, identityOf(cell)).kind === "not_ours") continue;
    if (status && status.state !== "TERMINATED")
      live.push({ cell: cell.id, serviceName: cell.serviceName, state: status.state });
  }
  return live;
}

export function formatRunStatus(
  dir: string,
  state: RunState,
  live: LiveService[],
  activePid?: number,
): string {
  const lines = [
    `Run ${state.runId} (plan ${state.planName}, ${state.target} target): ${activePid !== undefined ? `in progress in process ${activePid}` : state.status}`,
    "",
  ];
  const width = Math.max(...state.cells.map((c) => c.serviceName.length), 4);
  lines.push(`${"cell".padEnd(width)}  ${CELL_STEPS.map((s) => s.padEnd(8)).join(" ")}  levels done`);
  for (const cell of state.cells) {
    const steps = CELL_STEPS.map((s) => symbol(cell.steps[s]).padEnd(8)).join(" ");
    lines.push(`${cell.serviceName.padEnd(width)}  ${steps}  ${cell.levelsDone.join(",") || "—"}`);
    if (cell.error) lines.push(`${"".padEnd(width)}  error: ${cell.error}`);
    if (cell.foreignId)
      lines.push(
        `${"".padEnd(width)}  its name now belongs to someone else's service (${describeForeign(cell)}); left alone`,
      );
  }
  lines.push("");
  if (live.length === 0) {
    lines.push("No service of this run is running.");
  } else {
    lines.push("Services of this run still up (they cost money until terminated):");
    for (const s of live) lines.push(`  ${s.serviceName}  ${s.state}`);
    lines.push(`Terminate them with: ${cliCommand("teardown", dir)}`);
  }
  if (state.reportDir) lines.push(`Report: ${state.reportDir}`);
  if (state.status !== "succeeded" && activePid === undefined)
    lines.push(`Continue it with: ${cliCommand("resume", dir)}`);
  return lines.join("\n");
}

function symbol(step: string): string {
  return { pending: "·", running: "running", done: "done", failed: "FAILED" }[step] ?? step;
}

/** Read-only: a live run may be writing the journal, so a torn last line is skipped, not cut off. */
export function openRunState(dir: string): RunState {
  return deriveState(readJournal(dir));
}

/** `orchestrate status [RUN_DIR]`. */
export async function statusCommand(
  dir: string | undefined,
  options: StatusOptions,
  reporter: Reporter,
): Promise<void> {
  if (dir === undefined) {
    const runs = listRuns(options.resultsDir);
    if (options.json) reporter.result(JSON.stringify(runs, null, 2));
    else reporter.result(formatRunList(runs, options.resultsDir));
    return;
  }
  const folder = openRunFolder(dir);
  const state = openRunState(folder.dir);
  const activePid = lockHolder(folder.dir);
  let live: LiveService[] = [];
  // A local run's services live only inside the process that runs it.
  if (state.target === "anyscale") {
    const { createTarget } = await import("./adapters.js");
    live = await liveServices(
      state,
      createTarget(folder.readPlan(), folder, () => {}),
    );
  }
  if (options.json) {
    reporter.result(
      `${JSON.stringify({ ...state, liveServices: live, activePid: activePid ?? null }, null, 2)}`,
    );
    return;
  }
  reporter.result(formatRunStatus(folder.dir, state, live, activePid));
}
