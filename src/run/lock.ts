import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { UserError } from "../errors.js";
import { isSameProcessRunning, processIdentity } from "../process-alive.js";

/**
 * One process at a time per run folder: two orchestrators resuming the same run would deploy
 * and terminate each other's services. The lock holds the owner's pid, host and (on Linux) process
 * start time; a lock whose process is gone (a crash, SIGKILL), is a zombie, or whose pid now
 * belongs to another process (a different start time) is stale and taken over.
 */
export const LOCK_FILE = "lock";

export interface RunLock {
  release(): void;
}

interface LockOwner {
  pid: number;
  host: string;
  since: string;
  /** From /proc/PID/stat, so a reused pid is told apart from the owner. */
  startTime?: string;
}

export function acquireRunLock(dir: string): RunLock {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
      const startTime = processIdentity(process.pid)?.startTime;
      if (startTime) owner.startTime = startTime;
      writeSync(fd, JSON.stringify(owner));
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = readOwner(path);
      if (owner && (owner.host !== hostname() || isSameProcessRunning(owner.pid, owner.startTime))) {
        throw new UserError(
          `run folder ${dir} is in use by process ${owner.pid} on ${owner.host} (since ${owner.since})`,
          {
            hint: `wait for it to finish, or stop it; if that process is really gone, delete ${path}`,
          },
        );
      }
      // The owner died (or is a zombie, or its pid was reused) without releasing the lock: take it over.
      rmSync(path, { force: true });
    }
  }
  throw new UserError(`could not lock run folder ${dir}; another process keeps taking the lock`);
}

/** The pid holding the lock, when it is alive (for `status`). */
export function lockHolder(dir: string): number | undefined {
  const path = join(dir, LOCK_FILE);
  if (!existsSync(path)) return undefined;
  const owner = readOwner(path);
  return owner && owner.host === hostname() && isSameProcessRunning(owner.pid, owner.startTime)
    ? owner.pid
    : undefined;
}

function readOwner(path: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as LockOwner;
  } catch {
    return undefined;
  }
}
