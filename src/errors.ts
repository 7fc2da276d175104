/**
 * The three kinds of failure the CLI distinguishes. Library code throws these; only src/cli.ts
 * turns them into output and exit codes (2 bad input, 1 external failure, 130 interrupted).
 */

/** The user can fix this by changing a plan, a flag or the environment. Exit code 2. */
export class UserError extends Error {
  override name = "UserError";
  readonly exitCode = 2;
  /** One line each, printed under the message (e.g. every problem found in a plan). */
  readonly details: readonly string[];
  /** What to do about it, printed last. */
  readonly hint: string | undefined;

  constructor(
    message: string,
    options: { details?: readonly string[]; hint?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.details = options.details ?? [];
    this.hint = options.hint;
  }
}

/**
 * Something outside us failed: the `anyscale` CLI, an HTTP server, a child process. `kind` lets
 * callers branch (retry transient ones, fail fast on auth) without parsing messages twice.
 */
export type ExternalErrorKind =
  | "auth"
  | "not_found"
  | "validation"
  | "transient"
  | "timeout"
  | "service_failed"
  | "bad_response"
  | "not_installed"
  | "not_ours"
  | "unknown";

export class ExternalError extends Error {
  override name = "ExternalError";
  readonly exitCode = 1;
  readonly kind: ExternalErrorKind;
  readonly hint: string | undefined;

  constructor(message: string, options: { kind?: ExternalErrorKind; hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.kind = options.kind ?? "unknown";
    this.hint = options.hint;
  }
}

/** The user pressed Ctrl-C or the process got SIGTERM. Exit code 130. */
export class Interrupted extends Error {
  override name = "Interrupted";
  readonly exitCode = 130;
  constructor(message = "interrupted") {
    super(message);
  }
}

/** A readable one-liner for any thrown value, for logs and journals. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
