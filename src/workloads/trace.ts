import { UserError } from "../errors.js";
import {
  checkReadable,
  type FileIdentity,
  fileProblem,
  parseObjectLine,
  readLines,
  wholeNumber,
} from "./file-reader.js";
import { LengthTally, type RequestShape } from "./request-shape.js";

/**
 * A recorded trace of arrivals to replay. The one format is Mooncake's JSONL: one request a line,
 * `{"timestamp": ms since the trace began, "input_length": tokens, "output_length": tokens,
 * "hash_ids": [...]}`, in time order. hash_ids (which 512-token blocks prompts share) are checked
 * to be a list and not replayed: prompts are random token ids of exactly input_length, so no two
 * share a prefix (prefix caching stays out of the measurement, as everywhere in orchestrate).
 *
 * How N clients share one trace: the trace's time axis is divided by speed × N and its rows are
 * dealt round-robin (row i to client i mod N), so the N clients together replay every row once,
 * in order, at N × speed times the trace's rate, and each client carries speed × the trace's
 * rate, as a per-client request rate does.
 */

export type TraceFormat = "mooncake";

export interface TraceSpec {
  format: TraceFormat;
  path: string;
}

export interface TraceRow {
  /** ms since the trace's first row. */
  atMs: number;
  inputTokens: number;
  outputTokens: number;
  line: number;
}

export interface TraceSummary extends FileIdentity {
  format: TraceFormat;
  rows: number;
  /** From the first row's timestamp to the last, ms. */
  durationMs: number;
  lengths: LengthTally;
}

export async function* readTrace(
  spec: TraceSpec,
  maxModelLen: number | undefined,
  identity?: Partial<FileIdentity>,
): AsyncGenerator<TraceRow> {
  const { path } = spec;
  checkReadable(path, "a Mooncake trace (JSONL)", "benchmark.replay.path");
  let first: number | undefined;
  let previous = Number.NEGATIVE_INFINITY;
  for await (const numbered of readLines(path, identity)) {
    if (numbered.text.trim() === "") continue;
    const row = parseObjectLine(path, numbered);
    const { line } = numbered;
    if (row.timestamp === undefined) throw fileProblem(path, line, 'missing "timestamp" (ms)');
    const timestamp = row.timestamp;
    if (typeof timestamp !== "number" || !Number.isFinite(timestamp) || timestamp < 0)
      throw fileProblem(
        path,
        line,
        `"timestamp" must be a number of ms ≥ 0, got ${JSON.stringify(timestamp)}`,
      );
    if (timestamp < previous)
      throw fileProblem(
        path,
        line,
        `"timestamp" ${timestamp} is before the previous row's ${previous}`,
        "sort the trace by timestamp",
      );
    const inputTokens = wholeNumber(path, line, row, "input_length", 1);
    const outputTokens = wholeNumber(path, line, row, "output_length", 1);
    if (row.hash_ids !== undefined && !Array.isArray(row.hash_ids))
      throw fileProblem(path, line, '"hash_ids" must be a list of block ids');
    if (maxModelLen !== undefined && inputTokens + outputTokens > maxModelLen)
      throw fileProblem(
        path,
        line,
        `input_length ${inputTokens} + output_length ${outputTokens} = ${inputTokens + outputTokens} tokens, more than max_model_len ${maxModelLen}`,
        "leave the row out, or raise model.engine_kwargs.max_model_len",
      );
    previous = timestamp;
    first ??= timestamp;
    yield { atMs: timestamp - first, inputTokens, outputTokens, line };
  }
}

/** Reads the whole trace once (streamed), checking every row; throws on the first problem. */
export async function scanTrace(spec: TraceSpec, maxModelLen: number | undefined): Promise<TraceSummary> {
  const identity: Partial<FileIdentity> = {};
  const lengths = new LengthTally();
  let last = 0;
  for await (const row of readTrace(spec, maxModelLen, identity)) {
    lengths.add(row);
    last = row.atMs;
  }
  const rows = lengths.rows;
  if (rows === 0)
    throw new UserError(`${spec.path}:1: the trace has no rows`, {
      hint: 'one JSON object a line: {"timestamp": 0, "input_length": 512, "output_length": 64}',
    });
  return { ...(identity as FileIdentity), format: spec.format, rows, durationMs: last, lengths };
}

/** One client's share of a trace: its rows' times in the trace (ms) and their shapes. */
export interface TracePart {
  atMs: Float64Array;
  shapes: RequestShape[];
}

/** Row i goes to client (i mod clients) + 1 (the rows dealt round-robin). */
export async function tracePart(
  spec: TraceSpec,
  where: { part: number; clients: number },
): Promise<TracePart> {
  const times: number[] = [];
  const shapes: RequestShape[] = [];
  let i = 0;
  for await (const row of readTrace(spec, undefined)) {
    if (i % where.clients === where.part - 1) {
      times.push(row.atMs);
      shapes.push({ inputTokens: row.inputTokens, outputTokens: row.outputTokens });
    }
    i += 1;
  }
  return { atMs: Float64Array.from(times), shapes };
}

/** The client's send times at a speed, ms after the level's start: the trace's time ÷ (speed × clients). */
export function replayTimes(part: TracePart, speed: number, clients: number): Float64Array {
  const compress = speed * clients;
  return part.atMs.map((t) => t / compress);
}
