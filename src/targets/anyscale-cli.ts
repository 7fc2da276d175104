import { execa } from "execa";
import pRetry, { AbortError } from "p-retry";
import { ExternalError, type ExternalErrorKind } from "../errors.js";
import { redact } from "../secrets.js";
import { ANYSCALE_BIN } from "./anyscale-commands.js";

/**
 * The `anyscale` CLI behind a small interface: always non-interactive (no stdin, so a prompt
 * fails instead of hanging), abortable, stdout kept apart from stderr (progress and logs go to
 * stderr; only stdout is parsed), and failures sorted into typed errors by their message, because
 * the CLI's exit codes do not tell them apart (reference/anyscale.md).
 */
export interface CliResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface CliRunner {
  run(
    args: readonly string[],
    options: { cwd?: string; signal?: AbortSignal; timeoutMs?: number },
  ): Promise<CliResult>;
}

export function execaRunner(bin = ANYSCALE_BIN, env: NodeJS.ProcessEnv = process.env): CliRunner {
  return {
    async run(args, options) {
      try {
        const result = await execa(bin, [...args], {
          cwd: options.cwd,
          env,
          stdin: "ignore",
          reject: false,
          ...(options.signal ? { cancelSignal: options.signal } : {}),
          ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
          forceKillAfterDelay: 5_000,
        });
        if (result.isCanceled)
          throw new ExternalError(`anyscale ${args.slice(0, 2).join(" ")} was cancelled`, {
            kind: "unknown",
          });
        if (result.timedOut) {
          return {
            stdout: result.stdout ?? "",
            stderr: `timed out after ${options.timeoutMs} ms`,
            exitCode: 124,
          };
        }
        const spawnFailure = (result as { code?: string }).code;
        if (spawnFailure === "ENOENT") {
          throw new ExternalError(`the \`${bin}\` command was not found on PATH`, {
            kind: "validation",
            hint: "install the Anyscale CLI (pip install anyscale) and log in, or use --target local",
          });
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
      }
    },
  };
}

/** Sorts a failed CLI call by what its output says; order matters (an "invalid token" is auth). */
export function classifyFailure(result: CliResult): ExternalErrorKind {
  const text = `${result.stderr}\n${result.stdout}`;
  if (
    /unauthori[sz]ed|\b401\b|\b403\b|forbidden|not authenticated|authentication|credentials|(token|api key).{0,20}(invalid|expired|missing)|anyscale login/i.test(
      text,
    )
  ) {
    return "auth";
  }
  if (/not found|does not exist|no such service|could not find|\b404\b/i.test(text)) return "not_found";
  if (
    /timed? ?out|timeout|temporar|\b50[234]\b|\b429\b|rate.?limit|too many requests|connection (reset|refused|aborted|error)|ECONNRESET|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|network|try again|unavailable|bad gateway/i.test(
      text,
    )
  ) {
    return "transient";
  }
  if (
    result.exitCode === 2 ||
    /invalid|validation|unrecognized|extra (fields|inputs)|not permitted|schema|\b400\b|bad request|no such option|usage:/i.test(
      text,
    )
  ) {
    return "validation";
  }
  return "unknown";
}

const HINTS: Partial<Record<ExternalErrorKind, string>> = {
  auth: "set ANYSCALE_CLI_TOKEN (or run `anyscale login`), and ANYSCALE_HOST if you use a non-default control plane",
  validation: "the CLI rejected the command or the config; check the rendered file and the plan it came from",
  transient:
    "the Anyscale API had a passing problem and retries ran out; run `orchestrate resume RUN_DIR` to continue",
};

export function cliError(args: readonly string[], result: CliResult, attempts = 1): ExternalError {
  const kind = classifyFailure(result);
  const detail = lastLines(redact(result.stderr.trim() || result.stdout.trim() || "(no output)"), 6);
  const tries = attempts > 1 ? ` (after ${attempts} attempts)` : "";
  const hint = HINTS[kind];
  return new ExternalError(
    `anyscale ${args.join(" ")} failed with exit code ${result.exitCode}${tries}:\n${detail}`,
    {
      kind,
      ...(hint ? { hint } : {}),
    },
  );
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

/**
 * Runs a CLI command, retrying only failures that can succeed on retry (transient API and network
 * errors), with exponential backoff and jitter, a bounded number of times; the last cause is kept.
 * Auth, validation and not-found errors fail at once.
 */
export async function runCli(
  runner: CliRunner,
  args: readonly string[],
  options: {
    cwd?: string;
    signal?: AbortSignal;
    retry?: RetryPolicy;
    timeoutMs?: number;
    onRetry?: (e: ExternalError, attempt: number) => void;
  } = {},
): Promise<CliResult> {
  const retry = options.retry ?? DEFAULT_RETRY;
  let attempts = 0;
  return pRetry(
    async () => {
      attempts += 1;
      const result = await runner.run(args, {
        cwd: options.cwd,
        signal: options.signal,
        timeoutMs: options.timeoutMs,
      });
      if (result.exitCode === 0) return result;
      const error = cliError(args, result, attempts);
      if (error.kind !== "transient") throw new AbortError(error);
      throw error;
    },
    {
      retries: retry.retries,
      minTimeout: retry.minTimeoutMs,
      maxTimeout: retry.maxTimeoutMs,
      factor: 2,
      randomize: true,
      ...(options.signal ? { signal: options.signal } : {}),
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        if (retriesLeft > 0 && error instanceof ExternalError) options.onRetry?.(error, attemptNumber);
      },
    },
  );
}
