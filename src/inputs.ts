import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "./errors.js";

/**
 * Paths, URLs and environment variables as they enter the CLI, each checked where it is read, so
 * an ordinary mistake (a folder where a file belongs, a URL without its scheme, a variable set
 * to nothing) is a UserError saying what was expected, instead of an EISDIR or a TypeError from
 * deep inside a command.
 */

type PathKind = "file" | "folder" | "absent";

function pathKind(path: string): PathKind {
  if (!existsSync(path)) return "absent";
  return statSync(path).isDirectory() ? "folder" : "file";
}

export interface Expected {
  /** What belongs there, e.g. "a plan file (YAML)". */
  what: string;
  /** What to do instead, printed last. */
  hint?: string;
}

/** A file that must exist: `path` is returned as given. */
export function existingFile(path: string, expected: Expected): string {
  const kind = pathKind(path);
  if (kind === "file") return path;
  const problem = kind === "absent" ? "no such file" : "is a folder";
  throw new UserError(`${path}: ${problem}; expected ${expected.what}`, hintOf(expected));
}

/** A folder that must exist: `path` is returned as given. */
export function existingFolder(path: string, expected: Expected): string {
  const kind = pathKind(path);
  if (kind === "folder") return path;
  const problem = kind === "absent" ? "no such folder" : "is a file";
  throw new UserError(`${path}: ${problem}; expected ${expected.what}`, hintOf(expected));
}

/** A folder that is created when absent (an output folder): only a file in its place is wrong. */
export function folderToCreate(path: string, expected: Expected): string {
  if (pathKind(path) === "file") {
    throw new UserError(`${path}: is a file; expected ${expected.what}`, hintOf(expected));
  }
  return path;
}

/** A file that is written (and replaced when present): only a folder in its place is wrong. */
export function fileToWrite(path: string, expected: Expected): string {
  if (pathKind(path) === "folder") {
    throw new UserError(`${path}: is a folder; expected ${expected.what}`, hintOf(expected));
  }
  return path;
}

/** The files of `folder` whose names end in one of `extensions`, for a hint ("did you mean one of …"). */
export function filesIn(folder: string, extensions: readonly string[]): string[] {
  if (pathKind(folder) !== "folder") return [];
  return readdirSync(folder)
    .filter((name) => extensions.some((ext) => name.endsWith(ext)))
    .sort()
    .map((name) => join(folder, name));
}

/**
 * The base URL of an OpenAI-compatible server, from a flag or a variable (`source` names which).
 * A bare host:port is the common slip, so the error proposes the same address with http://.
 */
export function serverBaseUrl(text: string, source: string): string {
  const trimmed = text.trim();
  if (trimmed === "") {
    throw new UserError(`${source} is empty; expected the server's base URL, e.g. http://127.0.0.1:8000`);
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    throw new UserError(`${source}: "${trimmed}" has no scheme; expected a URL such as http://${trimmed}`);
  }
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new UserError(`${source}: "${trimmed}" is not a URL; expected e.g. http://127.0.0.1:8000`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UserError(`${source}: "${trimmed}" is a ${url.protocol} URL; expected http:// or https://`);
  }
  if (url.username || url.password) {
    throw new UserError(`${source}: the URL must not carry credentials; put the token in OPENAI_API_KEY`);
  }
  return trimmed;
}

/**
 * A variable that is set must say something: `export OPENAI_API_URL=$UNSET_VAR` leaves it
 * empty, and reading that as "use the default" would measure another server without a word.
 */
export function nonEmptyVariable(name: string, env: NodeJS.ProcessEnv, expected: string): string | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  if (value.trim() === "") {
    throw new UserError(`${name} is set but empty; expected ${expected}`, {
      hint: `set it, or unset it (unset ${name}) for the default`,
    });
  }
  return value;
}

function hintOf(expected: Expected): { hint?: string } {
  return expected.hint === undefined ? {} : { hint: expected.hint };
}
