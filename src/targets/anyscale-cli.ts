import { execa } from "execa";
import pRetry, { AbortError } from "p-retry";
import { ExternalError, type ExternalErrorKind } from "../errors.js";
import { cliCommand } from "../invocation.js";
import { redact } from "../secrets.js";
import { ANYSCALE_BIN } from "./anyscale-commands.js";
import { classifyFailure, subjectsOf } from "./anyscale-failures.js";

/**
 * The `anyscale` CLI behind a small interface: always non-interactive (no stdin, so a prompt
 * fails instead of hanging), abortable, bounded in time (a hung call is killed with its whole
 * process group), stdout kept apart from stderr (progress and logs go to stderr; only stdout is
 * parsed), and failures sorted into typed errors by their message (anyscale-failures.ts), because
 * the CLI's exit codes do not tell them apart (docs/anyscale.md).
 */
export interface CliResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** The call ran past its timeout and was killed: it says nothing about the request's fate. */
  timedOut?: boolean;
  /** The call failed, but a check showed that its request had been accepted (see acceptedDespite). */
  settledByCheck?: boolean;
}

export interface CliRunner {
  run(
    args: readonly string[],
    options: { cwd?: string; signal?: AbortSignal; timeoutMs?: number },
  ): Promise<CliResult>;
}

/** How long a killed call's process group gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2_000;

export const INSTALL_HINT =
  "install the Anyscale CLI with `pip install anyscale`, then log in with `anyscale login` (or set ANYSCALE_CLI_TOKEN); or run the plan with --target local";

export function execaRunner(bin = ANYSCALE_BIN, env: NodeJS.ProcessEnv = process.env): CliRunner {
  return {
    async run(args, options) {
      // Its own process group, so a timeout or Ctrl-C ends the CLI and every process it started
      // (the Python CLI may spawn helpers that would otherwise hold its pipes open).
      const child = execa(bin, [...args], {
        cwd: options.cwd,
        env,
        stdin: "ignore",
        reject: false,
        detached: true,
      });
      let timedOut = false;
      const killGroup = () => signalGroup(child.pid, "SIGTERM", KILL_GRACE_MS);
      const timer = options.timeoutMs
        ? setTimeout(() => {
            timedOut = true;
            killGroup();
          }, options.timeoutMs)
        : undefined;
      const onAbort = () => killGroup();
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener("abort", onAbort, { once: true });
      try {
        const result = await child;
        const spawnFailure = (result as { code?: string }).code;
        if (spawnFailure === "ENOENT") {
          throw new ExternalError(`the \`${bin}\` command was not found on PATH`, {
            kind: "not_installed",
            hint: INSTALL_HINT,
          });
        }
        if (options.signal?.aborted)
          throw new ExternalError(`anyscale ${args.slice(0, 2).join(" ")} was cancelled`, {
            kind: "unknown",
          });
        if (timedOut) {
          return {
            stdout: String(result.stdout ?? ""),
            stderr: `the call did not finish within ${Math.round((options.timeoutMs ?? 0) / 1000)} s and was killed`,
            exitCode: 124,
            timedOut: true,
          };
        }
        return {
          stdout: String(result.stdout ?? ""),
          stderr: String(result.stderr ?? ""),
          exitCode: result.exitCode ?? 1,
        };
      } catch (error) {
        if (error instanceof ExternalError) throw error;
        throw new ExternalError(`could not run ${bin}: ${(error as Error).message}`, {
          kind: "unknown",
          cause: error,
        });
      } finally {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
      }
    },
  };
}

/** SIGTERM to a process group, then SIGKILL after a grace period if it is still there. */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals, graceMs: number): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    return; // already gone
  }
  setTimeout(() => {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // gone after SIGTERM
    }
  }, graceMs).unref();
}

const HINTS: Partial<Record<ExternalErrorKind, string>> = {
  auth: "set ANYSCALE_CLI_TOKEN (or run `anyscale login`), and ANYSCALE_HOST if you use a non-default control plane",
  validation:
    "the CLI rejected the command or the config; check the rendered file, and the plan's deploy.cloud and deploy.project",
  transient: `the Anyscale API had a passing problem and retries ran out; run \`${cliCommand("resume", "RUN_DIR")}\` to continue`,
};

/** The error a failed call becomes; `result` is kept for callers that look closer (not found of what?). */
export class CliCallError extends ExternalError {
  constructor(
    readonly args: readonly string[],
    readonly result: CliResult,
    attempts: number,
  ) {
    const kind = classifyFailure(result, subjectsOf(args));
    const detail = lastLines(redact(result.stderr.trim() || result.stdout.trim() || "(no output)"), 6);
    const tries = attempts > 1 ? ` (after ${attempts} attempts)` : "";
    const hint = HINTS[kind];
    super(`anyscale ${args.join(" ")} failed with exit code ${result.exitCode}${tries}:\n${detail}`, {
      kind,
      ...(hint ? { hint } : {}),
    });
  }
}

export function cliError(args: readonly string[], result: CliResult, attempts = 1): CliCallError {
  return new CliCallError(args, result, attempts);
}

function lastLines(text: string, n: number): string {
  const lines = text.split("\n");
  return lines
    .slice(-n)
    .map((l) => `  | ${l}`)
    .join("\n");
}

export interface RetryPolicy {
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 4, minTimeoutMs: 2_000, maxTimeoutMs: 30_000 };
export const DEFAULT_CLI_TIMEOUT_MS = 120_000;

export interface RunCliOptions {
  cwd?: string;
  signal?: AbortSignal;
  retry?: RetryPolicy;
  /** Each call is killed after this long (and retried: a hung call is a passing problem). */
  timeoutMs?: number;
  /** Epoch ms: no call runs past it, and no retry starts after it. */
  deadline?: number;
  now?: () => number;
  /**
   * Before a transient failure is retried: a request that is not idempotent (deploy) may have been
   * accepted although the call failed. Return true when a check shows it was; the call then counts
   * as done (with `settledByCheck` set) instead of being sent again.
   */
  acceptedDespite?: (error: ExternalError) => Promise<boolean>;
  onRetry?: (e: ExternalError, attempt: number) => void;
}

/**
 * Runs a CLI command, retrying only failures that can succeed on retry (transient API and network
 * errors, and calls that hung), with exponential backoff and jitter, a bounded number of times and
 * never past the step's deadline; the last cause is kept. Auth, validation, not-found errors and a
 * missing CLI fail at once.
 */
export async function runCli(
  runner: CliRunner,
  args: readonly string[],
  options: RunCliOptions = {},
): Promise<CliResult> {
  const retry = options.retry ?? DEFAULT_RETRY;
  const now = options.now ?? Date.now;
  const callTimeout = options.timeoutMs ?? DEFAULT_CLI_TIMEOUT_MS;
  let attempts = 0;
  return pRetry(
    async () => {
      attempts += 1;
      const left = options.deadline === undefined ? callTimeout : options.deadline - now();
      // The last try still gets a second to answer, so a deadline just passed reports the CLI's words.
      const timeoutMs = Math.max(1_000, Math.min(callTimeout, left));
      let result: CliResult;
      try {
        result = await runner.run(args, { cwd: options.cwd, signal: options.signal, timeoutMs });
      } catch (error) {
        // A missing binary, a cancelled call: nothing a retry can change.
        throw new AbortError(error as Error);
      }
      if (result.exitCode === 0) return result;
      const error = cliError(args, result, attempts);
      if (error.kind !== "transient") throw new AbortError(error);
      if (options.deadline !== undefined && now() >= options.deadline) throw new AbortError(error);
      if (options.acceptedDespite && (await options.acceptedDespite(error)))
        return { ...result, settledByCheck: true };
      throw error;
    },
    {
      retries: retry.retries,
      minTimeout: retry.minTimeoutMs,
      maxTimeout: retry.maxTimeoutMs,
      factor: 2,
      randomize: true,
      ...(options.deadline !== undefined ? { maxRetryTime: Math.max(0, options.deadline - now()) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        if (retriesLeft > 0 && error instanceof ExternalError) options.onRetry?.(error, attemptNumber);
      },
    },
  );
}
