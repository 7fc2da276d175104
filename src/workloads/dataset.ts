import { UserError } from "../errors.js";
import {
  checkReadable,
  type FileIdentity,
  fileProblem,
  parseObjectLine,
  readLines,
  wholeNumber,
} from "./file-reader.js";
import { readJsonArray } from "./json-array.js";
import { estimateTokens, LengthTally, type RequestShape } from "./request-shape.js";

/**
 * Prompts from a file the user brings.
 *
 * - `sharegpt`: one JSON array of `{id, conversations: [{from, value}, …]}`. As vLLM's
 *   ShareGPTDataset does, a conversation gives one request: its first turn is the prompt and the
 *   second the answer, whose length (estimated, 4 characters a token) becomes max_tokens.
 *   Conversations with fewer than two turns, or that do not open with the user's turn
 *   (`from`: human or user), give no request and are counted as skipped.
 * - `jsonl`: one object a line, `{"prompt": "…", "output_tokens": 128}` (vLLM's custom dataset);
 *   output_tokens is optional and defaults to benchmark.output_tokens.
 *
 * Rows are used in file order; request g of a level (counted over every client, see
 * `datasetRowFor`) gets row g mod rows, so every scale and repeat sends the same prompts in the
 * same order.
 */

export type DatasetFormat = "sharegpt" | "jsonl";

export interface DatasetSpec {
  format: DatasetFormat;
  /** Resolved path (the plan's relative path joined to its folder). */
  path: string;
}

export interface DatasetRow extends RequestShape {
  promptText: string;
  /** Where the row is in the file, for error messages. */
  line: number;
}

export interface DatasetLimits {
  /** Answer length of rows that do not give one. */
  outputTokens: number;
  /** The model's context: a row whose prompt and answer do not fit in it is an error. */
  maxModelLen?: number;
}

export interface DatasetSummary extends FileIdentity {
  format: DatasetFormat;
  /** Rows that give a request. */
  rows: number;
  /** Rows left out by the format's rule (ShareGPT: fewer than two turns, not opened by the user). */
  skipped: number;
  lengths: LengthTally;
}

const USER_ROLES = new Set(["human", "user"]);

/** Every usable row of the file, in order; bad rows throw a `path:line` UserError. */
export async function* readDataset(
  spec: DatasetSpec,
  limits: DatasetLimits,
  identity?: Partial<FileIdentity>,
  onSkip?: () => void,
): AsyncGenerator<DatasetRow> {
  checkReadable(spec.path, `a ${spec.format} dataset`, "benchmark.dataset.path");
  const rows =
    spec.format === "sharegpt" ? shareGptRows(spec.path, limits, onSkip) : jsonlRows(spec.path, limits);
  for await (const row of rows(identity)) {
    const total = row.inputTokens + row.outputTokens;
    if (limits.maxModelLen !== undefined && total > limits.maxModelLen) {
      throw fileProblem(
        spec.path,
        row.line,
        `prompt (about ${row.inputTokens} tokens) + answer (${row.outputTokens}) = ${total} tokens, more than max_model_len ${limits.maxModelLen}`,
        "leave the row out, shorten it, or raise model.engine_kwargs.max_model_len",
      );
    }
    yield row;
  }
}

/** Reads the whole file once (streamed), checking every row; throws on the first problem. */
export async function scanDataset(spec: DatasetSpec, limits: DatasetLimits): Promise<DatasetSummary> {
  const identity: Partial<FileIdentity> = {};
  const lengths = new LengthTally();
  let skipped = 0;
  for await (const row of readDataset(spec, limits, identity, () => (skipped += 1))) lengths.add(row);
  const rows = lengths.rows;
  if (rows === 0) {
    throw new UserError(
      `${spec.path}:1: the dataset has no usable rows${skipped > 0 ? ` (${skipped} skipped)` : ""}`,
      {
        hint:
          spec.format === "sharegpt"
            ? "a ShareGPT conversation needs a user turn followed by an answer"
            : 'each line needs {"prompt": "…"}',
      },
    );
  }
  return { ...(identity as FileIdentity), format: spec.format, rows, skipped, lengths };
}

/**
 * The dataset row of a client's request. Requests are numbered over every client as vLLM numbers
 * one client's: client p (1-based) of N sends global requests p−1, p−1+N, p−1+2N … (its k-th
 * request is g = k·N + p−1), so the N clients together walk the rows in file order, and one
 * client alone walks them the same way.
 */
export function datasetRowFor(index: number, part: number, clients: number, rows: number): number {
  return (index * clients + (part - 1)) % rows;
}

/** Rows client `part` can ever send: those ≡ part−1 modulo gcd(clients, rows). */
export function rowsOfPart(part: number, clients: number, rows: number): (row: number) => boolean {
  const step = gcd(clients, rows);
  const residue = (part - 1) % step;
  return (row) => row % step === residue;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * The rows one client sends, held in memory (only those: with N clients a client holds about
 * 1/gcd(N, rows) of the file), as a source of request shapes.
 */
export async function datasetSource(
  spec: DatasetSpec,
  limits: DatasetLimits,
  where: { part: number; clients: number; rows: number },
): Promise<(index: number) => RequestShape> {
  const keep = rowsOfPart(where.part, where.clients, where.rows);
  const held = new Map<number, RequestShape>();
  let row = 0;
  for await (const r of readDataset(spec, limits)) {
    if (keep(row))
      held.set(row, { inputTokens: r.inputTokens, outputTokens: r.outputTokens, promptText: r.promptText });
    row += 1;
  }
  if (row !== where.rows)
    throw new UserError(
      `${spec.path}: has ${row} rows now, ${where.rows} when the run began; the file changed`,
    );
  return (index) => held.get(datasetRowFor(index, where.part, where.clients, where.rows))!;
}

function shareGptRows(path: string, limits: DatasetLimits, onSkip?: () => void) {
  return async function* (identity?: Partial<FileIdentity>): AsyncGenerator<DatasetRow> {
    for await (const { value, line } of readJsonArray(path, identity)) {
      const turns = (value as { conversations?: unknown }).conversations;
      if (turns === undefined) throw fileProblem(path, line, 'missing "conversations"');
      if (!Array.isArray(turns))
        throw fileProblem(path, line, '"conversations" must be an array of {from, value}');
      const [ask, answer] = turns as unknown[];
      if (ask === undefined || answer === undefined) {
        onSkip?.();
        continue;
      }
      const prompt = turnText(path, line, ask, 1);
      const reply = turnText(path, line, answer, 2);
      if (!USER_ROLES.has(prompt.from) || prompt.value.length === 0) {
        onSkip?.();
        continue;
      }
      const promptText = prompt.value;
      yield {
        promptText,
        inputTokens: estimateTokens(promptText),
        outputTokens: reply.value.length > 0 ? estimateTokens(reply.value) : limits.outputTokens,
        line,
      };
    }
  };
}

function turnText(
  path: string,
  line: number,
  turn: unknown,
  position: number,
): { from: string; value: string } {
  const t = turn as { from?: unknown; value?: unknown } | null;
  if (t === null || typeof t !== "object")
    throw fileProblem(path, line, `turn ${position} must be an object {from, value}`);
  if (typeof t.from !== "string")
    throw fileProblem(path, line, `turn ${position}: missing "from" (human, gpt, …)`);
  if (typeof t.value !== "string")
    throw fileProblem(path, line, `turn ${position}: missing "value" (the text)`);
  return { from: t.from, value: t.value };
}

function jsonlRows(path: string, limits: DatasetLimits) {
  return async function* (identity?: Partial<FileIdentity>): AsyncGenerator<DatasetRow> {
    for await (const numbered of readLines(path, identity)) {
      if (numbered.text.trim() === "") continue;
      const row = parseObjectLine(path, numbered);
      const { line } = numbered;
      if (row.prompt === undefined) throw fileProblem(path, line, 'missing "prompt"');
      if (typeof row.prompt !== "string" || row.prompt.length === 0)
        throw fileProblem(path, line, '"prompt" must be a non-empty string');
      const outputTokens =
        row.output_tokens === undefined
          ? limits.outputTokens
          : wholeNumber(path, line, row, "output_tokens", 1);
      yield { promptText: row.prompt, inputTokens: estimateTokens(row.prompt), outputTokens, line };
    }
  };
}
