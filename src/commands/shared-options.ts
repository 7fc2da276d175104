import { InvalidArgumentError } from "commander";

/** Option parsers shared by several commands; they reject bad values before any work starts. */

export function targetOption(value: string): "anyscale" | "local" {
  if (value === "anyscale" || value === "local") return value;
  throw new InvalidArgumentError("must be anyscale or local");
}

export function collectOnly(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function positiveIntOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("must be a positive whole number");
  return n;
}
