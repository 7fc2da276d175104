import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { UserError } from "../errors.js";
import { isProcessAlive } from "../process-alive.js";
import { PIDS_FILE, type PidsFile } from "./experiment-files.js";
import { PART_ENTRY } from "./fleet.js";

/**
 * Ends benchmark client processes that a crashed run left behind, by the PIDs the run recorded
 * in EXP/pids.json, never by name: a PID is only signalled after its command line proves it is a
 * part of that very experiment (PIDs are reused by the system).
 */

export type PidState =
  | "ended"
  | "would end"
  | "not running"
  | "not a part of this experiment"
  | "still running";

export interface CleanEntry {
  expDir: string;
  part: number;
  pid: number;
  state: PidState;
}

export interface CleanReport {
  entries: CleanEntry[];
  /** Folders skipped because their run is still going (its coordinator is alive). */
  activeRuns: Array<{ expDir: string; coordinatorPid: number }>;
}

/** How to look at and signal processes; tests hand in fakes. */
export interface ProcessTable {
  commandLine(pid: number): Promise<string[] | undefined>;
  /** The parent's PID, when it can be known. */
  parentPid(pid: number): Promise<number | undefined>;
  isAlive(pid: number): boolean;
  signal(pid: number, signal: NodeJS.Signals): void;
}

export const systemProcesses: ProcessTable = {
  async commandLine(pid) {
    try {
      const raw = await readFile(`/proc/${pid}/cmdline`, "utf8");
      return raw.split("\0").filter(Boolean);
    } catch {
      if (process.platform === "linux") return undefined;
      try {
        const { stdout } = await promisify(execFile)("ps", ["-o", "command=", "-p", String(pid)]);
        return stdout.trim() ? stdout.trim().split(/\s+/) : undefined;
      } catch {
        return undefined;
      }
    }
  },
  async parentPid(pid) {
    try {
      // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces, so read after its ")".
      const stat = await readFile(`/proc/${pid}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      return Number.isInteger(ppid) ? ppid : undefined;
    } catch {
      try {
        const { stdout } = await promisify(execFile)("ps", ["-o", "ppid=", "-p", String(pid)]);
        const ppid = Number(stdout.trim());
        return Number.isInteger(ppid) && stdout.trim() ? ppid : undefined;
      } catch {
        return undefined;
      }
    }
  },
  isAlive: isProcessAlive,
  signal(pid, signal) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone in the meantime
    }
  },
};

/** Is `argv` a part process of the experiment in `expDir`? */
export function isPartOf(argv: readonly string[], expDir: string): boolean {
  const entry = argv.some((a) => a.endsWith(PART_ENTRY));
  const exp = argv.indexOf("--exp");
  return entry && exp >= 0 && resolve(argv[exp + 1] ?? "") === resolve(expDir);
}

export async function cleanLeftovers(
  root: string,
  options: { dryRun?: boolean; processes?: ProcessTable; graceMs?: number } = {},
): Promise<CleanReport> {
  const processes = options.processes ?? systemProcesses;
  if (!existsSync(root)) throw new UserError(`${root}: no such folder`);
  const report: CleanReport = { entries: [], activeRuns: [] };
  for (const pidsPath of await findPidFiles(resolve(root))) {
    const expDir = dirname(pidsPath);
    let pids: PidsFile;
    try {
      pids = JSON.parse(await readFile(pidsPath, "utf8")) as PidsFile;
    } catch {
      throw new UserError(`${pidsPath}: not a readable PID file`, {
        hint: "delete it by hand if no benchmark is running there",
      });
    }
    // The coordinator is whatever Node process ran the benchmark (the CLI, the pipeline, a test).
    const coordinatorArgv = processes.isAlive(pids.coordinator_pid)
      ? await processes.commandLine(pids.coordinator_pid)
      : undefined;
    const coordinatorAlive = coordinatorArgv?.[0] !== undefined && /node/i.test(basename(coordinatorArgv[0]));
    const toEnd: CleanEntry[] = [];
    let inUse = false;
    for (const { part, pid } of pids.parts) {
      const entry: CleanEntry = { expDir, part, pid, state: "not running" };
      if (!processes.isAlive(pid)) {
        report.entries.push(entry);
        continue;
      }
      const argv = await processes.commandLine(pid);
      if (!argv || !isPartOf(argv, expDir)) {
        entry.state = "not a part of this experiment";
        report.entries.push(entry);
        continue;
      }
      // A part whose coordinator is alive and still its parent belongs to a run in progress.
      if (coordinatorAlive && (await processes.parentPid(pid)) === pids.coordinator_pid) {
        inUse = true;
        continue;
      }
      entry.state = options.dryRun ? "would end" : "still running";
      report.entries.push(entry);
      toEnd.push(entry);
    }
    if (inUse) {
      report.activeRuns.push({ expDir, coordinatorPid: pids.coordinator_pid });
      continue;
    }
    if (options.dryRun) continue;
    for (const entry of toEnd) processes.signal(entry.pid, "SIGTERM");
    await waitUntilGone(toEnd, processes, options.graceMs ?? 3000);
    for (const entry of toEnd.filter((e) => e.state === "still running"))
      processes.signal(entry.pid, "SIGKILL");
    await waitUntilGone(toEnd, processes, 2000);
    if (toEnd.every((e) => e.state === "ended") && !coordinatorAlive) await rm(pidsPath, { force: true });
  }
  return report;
}

async function waitUntilGone(entries: CleanEntry[], processes: ProcessTable, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    for (const entry of entries)
      if (entry.state === "still running" && !processes.isAlive(entry.pid)) entry.state = "ended";
    if (entries.every((e) => e.state !== "still running") || Date.now() >= deadline) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function findPidFiles(root: string, depth = 5): Promise<string[]> {
  const found: string[] = [];
  if (existsSync(join(root, PIDS_FILE))) found.push(join(root, PIDS_FILE));
  if (depth === 0) return found;
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.isDirectory() && !entry.name.startsWith(".") && entry.name !== "node_modules") {
      found.push(...(await findPidFiles(join(root, entry.name), depth - 1)));
    }
  }
  return found;
}

/**
 * A pids.json whose coordinator and parts are all gone is the trace of a crash (a SIGKILLed
 * orchestrator), not a run in progress: remove it so a resume can go on. Returns whether it did.
 */
export async function clearStalePids(
  expDir: string,
  processes: ProcessTable = systemProcesses,
): Promise<boolean> {
  const path = join(expDir, PIDS_FILE);
  if (!existsSync(path)) return false;
  let pids: PidsFile;
  try {
    pids = JSON.parse(await readFile(path, "utf8")) as PidsFile;
  } catch {
    return false; // unreadable: leave it for a person (and `orchestrate clean`) to judge
  }
  if (processes.isAlive(pids.coordinator_pid)) {
    const argv = await processes.commandLine(pids.coordinator_pid);
    // A reused PID that is not a node process is not our coordinator.
    if (argv === undefined || argv.some((a) => /node/.test(a))) return false;
  }
  for (const { pid } of pids.parts) {
    if (!processes.isAlive(pid)) continue;
    const argv = await processes.commandLine(pid);
    if (argv !== undefined && isPartOf(argv, expDir)) return false;
  }
  await rm(path, { force: true });
  return true;
}
