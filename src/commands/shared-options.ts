import { InvalidArgumentError } from "commander";

/** Option parsers shared by several commands; they reject bad values before any work starts. */

export function targetOption(value: string): "anyscale" | "local" {
  if (value === "anyscale" || value === "local") return value;
  throw new InvalidArgumentError("must be anyscale or local");
}

/** `--allow-cli-version` on every command that runs the preflight: the same words everywhere. */
export const ALLOW_CLI_VERSION_FLAG = "--allow-cli-version";
export const ALLOW_CLI_VERSION_HELP =
  "accept an anyscale CLI older than orchestrate needs (0.26.0), for one you know has the features it uses";

export function collectOnly(value: string, previous: string[]): string[] {
  return [...previous, value];
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
