import { InvalidArgumentError, Option } from "commander";
import { existingFile, existingFolder, fileToWrite, folderToCreate } from "../inputs.js";

/** Option parsers shared by several commands; they reject bad values before any work starts. */

export function targetOption(value: string): "anyscale" | "local" {
  if (value === "anyscale" || value === "local") return value;
  throw new InvalidArgumentError("must be anyscale or local");
}

/** `--allow-cli-version` on every command that runs the preflight: the same words everywhere. */
export const ALLOW_CLI_VERSION_FLAG = "--allow-cli-version";
export const ALLOW_CLI_VERSION_HELP =
  "accept an anyscale CLI older than orchestrate needs (0.26.0), for one you know has the features it uses";

/** A value that must say something (a flag given as "", or its variable set to nothing). */
export function nonEmptyOption(value: string): string {
  if (value.trim() === "") throw new InvalidArgumentError("must not be empty");
  return value;
}

export function collectOnly(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `--only image=X,scale=N` of run and render: the conditions of one match together; repeats add cells. */
export function onlyOption(): Option {
  return new Option(
    "--only <filter>",
    "only the cells matching every condition given, e.g. image=rayoss-251,scale=4; repeat --only to add more cells (a union), e.g. --only scale=1 --only scale=4",
  )
    .argParser(collectOnly)
    .default([], "every cell");
}

export function intOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError("must be a whole number");
  return n;
}

export function positiveIntOption(value: string): number {
  const n = intOption(value);
  if (n < 1) throw new InvalidArgumentError("must be a positive whole number");
  return n;
}

export function nonNegativeIntOption(value: string): number {
  const n = intOption(value);
  if (n < 0) throw new InvalidArgumentError("must be a whole number ≥ 0");
  return n;
}

export function portOption(value: string): number {
  const n = intOption(value);
  if (n < 0 || n > 65535) throw new InvalidArgumentError("must be a port number (0-65535)");
  return n;
}

export function nonNegativeOption(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError("must be a number ≥ 0");
  return n;
}

export function fractionOption(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new InvalidArgumentError("must be a fraction between 0 and 1");
  return n;
}

/*
 * Paths on the command line, checked as they are read (src/inputs.ts): a folder where a file
 * belongs, or the reverse, is a clear exit 2 before the command starts, not an EISDIR inside it.
 */

/** A folder, or nothing there yet (one the command creates, or an empty list when absent). */
export function folderOption(what: string): (value: string) => string {
  return (value) => folderToCreate(value, { what });
}

/** A file the command writes, replaced when present. */
export function outputFileOption(what: string): (value: string) => string {
  return (value) => fileToWrite(value, { what });
}

/** A file the command reads. */
export function fileOption(what: string): (value: string) => string {
  return (value) => existingFile(value, { what });
}

/** A folder the command reads. */
export function folderArgument(what: string): (value: string) => string {
  return (value) => existingFolder(value, { what });
}

/** Folders the command reads, for a variadic argument (`<dirs...>`). */
export function folderArguments(what: string): (value: string, previous?: string[]) => string[] {
  return (value, previous = []) => [...previous, existingFolder(value, { what })];
}
