/**
 * Starts the simulator as a child process (dist/sim/main.js) in its own process group, waits for
 * its "listening" line, and stops the whole group on request. By default the child also watches
 * this process and exits when it dies, and this process kills its children on exit, so no
 * simulator outlives its parent. A parent that must go away while the simulator keeps running
 * (the fake `anyscale` CLI) passes `outliveParent: true` and keeps the pid to stop it later.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { ExternalError } from "../errors.js";
import { distEntry } from "../paths.js";
import { PARENT_PID_ENV, SIM_CONFIG_ENV, type SimConfigInput } from "./config.js";

export interface SimulatorProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Settles when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** The last lines the child wrote to stderr (for error messages). */
  stderrTail(): string;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  /** Let the simulator keep running after this process exits (default false). */
  outliveParent?: boolean;
  /** How long to wait for the listening line. */
  startTimeoutMs?: number;
  /** Extra environment for the child. */
  env?: NodeJS.ProcessEnv;
}

const STDERR_TAIL_LINES = 20;
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * What a simulator child may see of our environment: what a Node process needs to run, and
 * nothing else. An allow-list, not a deny-list, so a credential under a name we never heard of
 * (ANYSCALE_CLI_TOKEN, OPENAI_API_KEY, AWS_…) does not reach a process that serves HTTP.
 */
const CHILD_ENV_ALLOWED = new Set([
  "PATH",
  "HOME",
  "TMPDIR",
  "TMP",
  "TEMP",
  "LANG",
  "LC_ALL",
  "LC_CTYPE",
  "TZ",
  "NODE_OPTIONS",
  "NODE_V8_COVERAGE",
  "SYSTEMROOT",
  "SystemRoot",
]);

export function childEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => CHILD_ENV_ALLOWED.has(key)));
}

export async function spawnSimulator(
  config: SimConfigInput,
  options: SpawnOptions = {},
): Promise<SimulatorProcess> {
  const entry = distEntry("sim/main.js");
  const env: NodeJS.ProcessEnv = {
    ...childEnvironment({ ...process.env, ...options.env }),
    [SIM_CONFIG_ENV]: JSON.stringify(config),
  };
  if (options.outliveParent) delete env[PARENT_PID_ENV];
  else env[PARENT_PID_ENV] = String(process.pid);
  const child = spawn(process.execPath, [entry], {
    env,
    // Its own process group (and session), so a signal can reach everything it might start, and
    // a Ctrl-C meant for the orchestrator is not delivered to it behind the orchestrator's back.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (!options.outliveParent) track(child);
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on("line", (line) => {
    stderr.push(line);
    if (stderr.length > STDERR_TAIL_LINES) stderr.shift();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });

  const listening = await waitForListening(child, exited, options.startTimeoutMs ?? 15_000, () =>
    stderr.join("\n"),
  );
  // Once it runs, the child must not keep this process alive on its own.
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();

  return {
    url: listening.url,
    port: listening.port,
    pid: child.pid!,
    exited,
    hasExited: () => hasExited,
    stderrTail: () => stderr.join("\n"),
    async stop(graceMs = 3_000) {
      if (hasExited) return;
      killGroup(child.pid!, "SIGTERM");
      const timer = setTimeout(() => killGroup(child.pid!, "SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

function waitForListening(
  child: ChildProcess,
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  timeoutMs: number,
  stderr: () => string,
): Promise<{ url: string; port: number }> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => {
      killGroup(child.pid!, "SIGKILL");
      reject(
        new ExternalError(`the simulator did not start within ${timeoutMs} ms\n${stderr()}`, {
          kind: "timeout",
        }),
      );
    }, timeoutMs);
    lines.on("line", (line) => {
      let message: { event?: string; url?: string; port?: number };
      try {
        message = JSON.parse(line);
      } catch {
        return; // not ours (a stray log line)
      }
      if (message.event === "listening" && message.url && message.port) {
        clearTimeout(timer);
        resolve({ url: message.url, port: message.port });
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new ExternalError(
          `the simulator exited before it listened (${signal ?? `exit code ${code}`}): ${describe(stderr())}`,
          {
            kind: "service_failed",
          },
        ),
      );
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(
        new ExternalError(`cannot start the simulator: ${error.message}`, { kind: "unknown", cause: error }),
      );
    });
  });
}

/** The child's error line, if it wrote one, else its last stderr lines. */
function describe(stderr: string): string {
  for (const line of stderr.split("\n").reverse()) {
    try {
      const parsed = JSON.parse(line) as { event?: string; message?: string; details?: string[] };
      if (parsed.event === "error") return [parsed.message, ...(parsed.details ?? [])].join("; ");
    } catch {
      // not a JSON line
    }
  }
  return stderr.trim() || "(no output)";
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Kills every tracked simulator when this process exits, however it exits (short of SIGKILL). */
function track(child: ChildProcess): void {
  live.add(child);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const running of live) if (running.pid) killGroup(running.pid, "SIGKILL");
  });
}
