import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { deriveState, readJournal } from "../../src/run/journal.js";

export const ROOT = resolve(import.meta.dirname, "../..");
export const CLI = join(ROOT, "dist/bin.js");

/** A scratch folder with the repository's plans and the test plans, to run orchestrate in. */
export function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), "orchestrate-e2e-"));
  cpSync(join(ROOT, "plans"), join(dir, "plans"), { recursive: true });
  cpSync(join(ROOT, "profiles"), join(dir, "profiles"), { recursive: true });
  cpSync(join(ROOT, "test/fixtures/plans/good"), join(dir, "test-plans"), { recursive: true });
  return dir;
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `orchestrate ARGS` as its own process; `done` resolves when it exits. */
export function startOrchestrate(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
  const child: ChildProcess = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    stdout += d;
  });
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const done = new Promise<Finished>((resolveDone) => {
    child.on("exit", (code, signal) => {
      // Let the pipes drain before reporting.
      setImmediate(() => resolveDone({ code, signal, stdout, stderr }));
    });
  });
  return { child, done, output: () => ({ stdout, stderr }) };
}

export async function orchestrate(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
  return startOrchestrate(args, options).done;
}

/** The single run folder under `<cwd>/results`. */
export function runFolder(cwd: string): string {
  const results = join(cwd, "results");
  const runs = existsSync(results) ? readdirSync(results).filter((d) => !d.startsWith(".")) : [];
  if (runs.length !== 1)
    throw new Error(`expected one run folder in ${results}, found ${runs.join(", ") || "none"}`);
  return join(results, runs[0]!);
}

export function journalEvents(runDir: string): Array<Record<string, any>> {
  const path = join(runDir, "journal.jsonl");
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .flatMap((l) => {
      try {
        return [JSON.parse(l)];
      } catch {
        return [];
      }
    });
}

export function runState(runDir: string): Record<string, any> {
  return JSON.parse(readFileSync(join(runDir, "state.json"), "utf8"));
}

/**
 * The run's state as its journal says, which is what resume and teardown go by: after a kill,
 * state.json can be one event behind (it is rewritten after each event is appended, and a SIGKILL
 * can fall between the two).
 */
export function journaledState(runDir: string): Record<string, any> {
  return deriveState(readJournal(runDir));
}

/** Polls until `condition` holds, or fails after `timeoutMs` (for events in another process). */
export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Waits until the run started in `cwd` has journaled an event matching `wanted` (the run folder
 * may not exist yet when the wait begins); returns the run folder.
 */
export async function untilJournaled(
  cwd: string,
  wanted: (event: Record<string, any>) => boolean,
  timeoutMs: number,
  what: string,
): Promise<string> {
  let dir = "";
  await until(
    () => {
      try {
        dir = runFolder(cwd);
        return journalEvents(dir).some(wanted);
      } catch {
        return false;
      }
    },
    timeoutMs,
    what,
  );
  return dir;
}

/** Every file under a folder, recursively. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/**
 * `orchestrate run PLAN`, killed with SIGKILL as soon as the journal has the identity of `cell`'s
 * service: the service stays up (it runs "in the cloud") with its id recorded. Returns the run folder.
 */
export async function runKilledOnceIdentified(
  plan: string,
  cell: string,
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<string> {
  const run = startOrchestrate(["run", plan], options);
  const dir = await untilJournaled(
    options.cwd,
    (e) => e.type === "service_identified" && e.cell === cell,
    60_000,
    `the identity of ${cell}'s service`,
  );
  run.child.kill("SIGKILL");
  await run.done;
  return dir;
}
