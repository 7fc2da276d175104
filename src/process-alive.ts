import { readFileSync } from "node:fs";

/** Whether a process with this pid exists (EPERM means it does, but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** What Linux says about a process: its state letter and its start time (clock ticks after boot). */
export interface ProcessIdentity {
  state: string;
  startTime: string;
}

/**
 * Reads /proc/PID/stat (Linux only; undefined elsewhere or when the process is gone). The command
 * name in field 2 may hold spaces and parentheses, so fields are counted from its last ")".
 */
export function processIdentity(pid: number): ProcessIdentity | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  const state = fields[0];
  const startTime = fields[19];
  return state && startTime ? { state, startTime } : undefined;
}

/**
 * Whether the process that recorded `startTime` is still running: a zombie (killed, not yet reaped
 * by a parent that never reaps, as under a container's PID 1 without init) is not, and neither is
 * a new process that reuses the pid (another start time).
 */
export function isSameProcessRunning(pid: number, startTime: string | undefined): boolean {
  if (!isProcessAlive(pid)) return false;
  const identity = processIdentity(pid);
  if (!identity) return true; // not Linux, or no /proc: the pid is all there is to go on
  if (identity.state === "Z" || identity.state === "X") return false;
  return startTime === undefined || identity.startTime === startTime;
}
