import { createHash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { UserError } from "../errors.js";

/**
 * Reading a user's workload file (a dataset or a trace) a chunk at a time, so a ShareGPT file of
 * hundreds of MB is never held whole, with the line numbers every error message points at and the
 * sha256 that the results record.
 */

export interface NumberedLine {
  text: string;
  /** 1-based. */
  line: number;
}

/** What the results record of a file: enough to tell whether a later run used the same one. */
export interface FileIdentity {
  path: string;
  bytes: number;
  sha256: string;
}

/** `path:line: message`, the form editors and terminals turn into a link. */
export function fileProblem(path: string, line: number, message: string, hint?: string): UserError {
  return new UserError(`${path}:${line}: ${message}`, hint ? { hint } : {});
}

/** The file must exist and be a file; `what` says what was expected there. */
export function checkReadable(path: string, what: string, key: string): number {
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(path);
  } catch {
    throw new UserError(`${path}: no such file; expected ${what} (${key})`, {
      hint: `${key} is read relative to the plan's folder; check the path`,
    });
  }
  if (stats.isDirectory()) throw new UserError(`${path}: is a folder; expected ${what} (${key})`);
  return stats.size;
}

/**
 * The file's text, chunk by chunk (multi-byte characters split between reads are kept whole).
 * `identity`, when given, is filled in once the last chunk has been read.
 */
export async function* readTextChunks(
  path: string,
  identity?: Partial<FileIdentity>,
): AsyncGenerator<string> {
  const hash = createHash("sha256");
  const decoder = new StringDecoder("utf8");
  let bytes = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
    const text = decoder.write(chunk);
    if (text) yield text;
  }
  const rest = decoder.end();
  if (rest) yield rest;
  if (identity) Object.assign(identity, { path, bytes, sha256: hash.digest("hex") });
}

/** The file's lines with their numbers (`\n` or `\r\n` endings; a last line without one counts). */
export async function* readLines(
  path: string,
  identity?: Partial<FileIdentity>,
): AsyncGenerator<NumberedLine> {
  let pending = "";
  let line = 0;
  for await (const chunk of readTextChunks(path, identity)) {
    pending += chunk;
    let start = 0;
    for (let end = pending.indexOf("\n"); end !== -1; end = pending.indexOf("\n", start)) {
      line += 1;
      yield { text: stripCr(pending.slice(start, end)), line };
      start = end + 1;
    }
    pending = pending.slice(start);
  }
  if (pending.length > 0) yield { text: stripCr(pending), line: line + 1 };
}

function stripCr(text: string): string {
  return text.endsWith("\r") ? text.slice(0, -1) : text;
}

/** A JSON object on one line, or a `path:line` error saying what is wrong with it. */
export function parseObjectLine(path: string, { text, line }: NumberedLine): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw fileProblem(
      path,
      line,
      `not valid JSON (${(error as Error).message})`,
      "each line must be one JSON object",
    );
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw fileProblem(path, line, "expected a JSON object on this line");
  return value as Record<string, unknown>;
}

/** A whole number ≥ `min` at `key`, or a `path:line` error naming the key. */
export function wholeNumber(
  path: string,
  line: number,
  row: Record<string, unknown>,
  key: string,
  min: number,
): number {
  const value = row[key];
  if (value === undefined) throw fileProblem(path, line, `missing "${key}"`);
  if (typeof value !== "number" || !Number.isInteger(value) || value < min)
    throw fileProblem(path, line, `"${key}" must be a whole number ≥ ${min}, got ${JSON.stringify(value)}`);
  return value;
}
