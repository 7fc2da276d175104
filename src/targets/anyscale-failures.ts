import type { ExternalErrorKind } from "../errors.js";

/**
 * Sorting a failed `anyscale` call by what its message *is*, not by any word in it. The CLI's
 * exit codes tell little (0.26.x: 2 a usage error, 1 nearly everything else; newer CLIs: 2 an
 * infrastructure error), so the output decides, in this order, most specific first:
 *   1. a click usage error (`Usage:` … `Error:`): the command line is wrong, whatever it mentions;
 *   2. the newer CLI's JSON envelope (`{"error": {"code", "message", "exit_code"}}`): its exit code;
 *   3. an HTTP status the CLI reports (`Error: (503)` / `Reason:`, `HTTP 502`, a bare `500`);
 *   4. the Python exception a traceback ends in (`ConnectionResetError`, `TypeError`);
 *   5. phrases of the error lines (auth, a missing project or cloud, a missing service, invalid
 *      input, then network trouble).
 * Names the call was given (the service's, the project's) are masked first, so a service called
 * `cloud-lab`, `timeout-x1` or `auth-svc` cannot make its own "not found" look like something else.
 * docs/anyscale.md lists the real messages this is tested on.
 */
export interface FailedCall {
  stdout: string;
  stderr: string;
  exitCode: number;
  timedOut?: boolean;
}

export function classifyFailure(result: FailedCall, subjects: readonly string[] = []): ExternalErrorKind {
  if (result.timedOut) return "transient";
  const text = maskSubjects(`${result.stderr}\n${result.stdout}`, subjects);
  if (USAGE_ERROR.test(text)) return "validation";
  const envelope = errorEnvelope(result.stderr);
  if (envelope) return byEnvelope(envelope, subjects);
  const focus = errorLines(text);
  const status = httpStatus(focus);
  if (status !== undefined) return byHttpStatus(status);
  const exception = pythonException(focus);
  if (exception) return exception;
  return byPhrase(focus) ?? "unknown";
}

/**
 * Whether a failed call says that this very service does not exist: a "not found" about a
 * service, naming it (by name or id). A bare 404 or a missing project says nothing about it.
 */
export function saysServiceAbsent(result: FailedCall, ...identifiers: string[]): boolean {
  const text = `${result.stderr}\n${result.stdout}`;
  const envelope = errorEnvelope(result.stderr);
  const message = envelope ? envelope.message : text;
  if (!SERVICE_NOT_FOUND.test(maskSubjects(message, identifiers))) return false;
  if (envelope ? envelope.exitCode !== 1 : classifyFailure(result, identifiers) !== "not_found") return false;
  return identifiers.some((id) => id !== "" && namePattern(id).test(message));
}

/** The values a command line gives (after its flags): the names to keep out of every pattern. */
export function subjectsOf(args: readonly string[]): string[] {
  return args.filter((arg, i) => i > 0 && !arg.startsWith("-") && args[i - 1]?.startsWith("-") === true);
}

const MASK = "‹subject›";

function maskSubjects(text: string, subjects: readonly string[]): string {
  let masked = text;
  for (const subject of [...subjects].sort((a, b) => b.length - a.length)) {
    if (subject.length < 2) continue;
    masked = masked.replace(
      new RegExp(namePattern(subject).source, "g"),
      (_, before: string) => `${before}${MASK}`,
    );
  }
  return masked;
}

/** A name as a whole word: not a part of a longer name (`svc-x1` is not in `svc-x10`). */
function namePattern(name: string): RegExp {
  return new RegExp(`(^|[^\\w-])${escapeRegExp(name)}(?=$|[^\\w-])`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** click: "Usage: anyscale …" then "Error: No such option / Missing option / Invalid value …". */
const USAGE_ERROR = /^Usage: .*$[\s\S]*^Error: /m;

interface Envelope {
  code: string;
  message: string;
  exitCode: number;
}

/** The newer CLI's error on stderr: one JSON object with an `error` member. */
function errorEnvelope(stderr: string): Envelope | undefined {
  for (const line of stderr.split("\n").reverse()) {
    const trimmed = line.trim();
    if (!trimmed.startsWith("{") || !trimmed.includes('"error"')) continue;
    try {
      const parsed = JSON.parse(trimmed) as {
        error?: { code?: unknown; message?: unknown; exit_code?: unknown };
      };
      const error = parsed.error;
      if (error && typeof error === "object" && typeof error.exit_code === "number") {
        return {
          code: String(error.code ?? ""),
          message: String(error.message ?? ""),
          exitCode: error.exit_code,
        };
      }
    } catch {
      // not the envelope
    }
  }
  return undefined;
}

/** Newer CLIs: 1 user error, 2 infrastructure (5xx, 429, connection), 3 timeout, 4 auth, 10 workload failed. */
function byEnvelope(envelope: Envelope, subjects: readonly string[]): ExternalErrorKind {
  switch (envelope.exitCode) {
    case 2:
    case 3:
      return "transient";
    case 4:
      return "auth";
    case 10:
      return "service_failed";
    case 1: {
      // A user error is never retried; its message still tells a missing service from bad input.
      const kind = byPhrase(maskSubjects(envelope.message, subjects));
      return kind === "not_found" || kind === "auth" ? kind : "validation";
    }
    default:
      return "unknown";
  }
}

/**
 * The lines that state the error: click's `Error: …`, an exception's last line, the API's
 * `Reason:` and response body. Progress lines around them (which may mention a timeout or a
 * cloud) are not the error. Without such lines, the whole output is all there is.
 */
function errorLines(text: string): string {
  const lines = text.split("\n").filter((line) => ERROR_LINE.test(line));
  return lines.length > 0 ? lines.join("\n") : text;
}

const ERROR_LINE = /^\s*(Error:|Reason:|HTTP response body:|(?:[\w.]+\.)?\w*(?:Error|Exception|Timeout)\b:?)/;

function httpStatus(text: string): number | undefined {
  const match =
    /^Error:\s*\((\d{3})\)/m.exec(text) ??
    /\bHTTP(?:\/[\d.]+)?\s+(\d{3})\b/.exec(text) ??
    /\bstatus(?:[ _]code)?\s*[:=]?\s*(\d{3})\b/i.exec(text) ??
    /<(?:title|h1)>(\d{3})\s/.exec(text) ??
    /^\s*(\d{3})\s*$/.exec(text);
  return match ? Number(match[1]) : undefined;
}

function byHttpStatus(status: number): ExternalErrorKind {
  if (status === 401 || status === 403) return "auth";
  if (status === 404) return "not_found";
  if (status === 408 || status === 429 || status >= 500) return "transient";
  if (status >= 400) return "validation";
  return "unknown";
}

const TRANSIENT_EXCEPTIONS =
  /^\s*(?:[\w.]+\.)?(ConnectionError|ConnectionResetError|ConnectionRefusedError|ConnectionAbortedError|BrokenPipeError|RemoteDisconnected|ProtocolError|MaxRetryError|NewConnectionError|ReadTimeout|ReadTimeoutError|ConnectTimeout|ConnectTimeoutError|Timeout|TimeoutError|ChunkedEncodingError)\b/m;
const INPUT_EXCEPTIONS =
  /^\s*(?:[\w.]+\.)?(TypeError|ValueError|ValidationError|KeyError|FileNotFoundError)\b/m;

/** What the last exception of a traceback says, where its type alone settles it. */
function pythonException(text: string): ExternalErrorKind | undefined {
  if (TRANSIENT_EXCEPTIONS.test(text)) return "transient";
  if (INPUT_EXCEPTIONS.test(text)) return "validation";
  return undefined;
}

const AUTH =
  /unauthori[sz]ed|forbidden|not authenticated|authentication (failed|required)|no credentials|credentials (are )?(invalid|expired|missing|not found)|(token|api key)\b.{0,20}\b(invalid|expired|missing)|(invalid|expired) (or expired )?(token|api key)|anyscale login/i;
/** A "not found" about what the command works in, not about the service: the plan is wrong. */
const CONTAINER_NOT_FOUND =
  /^(?:Error:\s*)?(?:\w+Error:\s*)?(project|cloud|compute.?config|organi[sz]ation)\b[^\n]{0,80}\b(not found|does not exist|was not found)|(could not find|no such) (project|cloud|compute.?config)/im;
const SERVICE_NOT_FOUND =
  /\bservice\b[^\n]{0,80}\b(was not found|not found|does not exist)|no service with (name|id)\b[^\n]{0,80}\bwas found/i;
const AMBIGUOUS = /there are multiple services with name/i;
const INVALID =
  /invalid|validation|unrecognized|unexpected keyword argument|extra (fields|inputs)|not permitted|missing required|must be (provided|specified)|only one of|bad request|no such option|no such command/i;
const NETWORK =
  /internal server error|bad gateway|service unavailable|gateway time-?out|too many requests|rate.?limit|connection (was )?(reset|refused|aborted|closed)|reset by peer|broken pipe|remote end closed|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|EPIPE|timed out|read timeout|connect(ion)? timeout|temporar(il)?y unavailable|try again later/i;
const NOT_FOUND = /not found|does not exist|no such (service|resource)|could not find/i;

function byPhrase(text: string): ExternalErrorKind | undefined {
  if (AUTH.test(text)) return "auth";
  if (CONTAINER_NOT_FOUND.test(text)) return "validation";
  if (SERVICE_NOT_FOUND.test(text)) return "not_found";
  if (AMBIGUOUS.test(text) || INVALID.test(text)) return "validation";
  if (NETWORK.test(text)) return "transient";
  if (NOT_FOUND.test(text)) return "not_found";
  return undefined;
}
