import { open, readFile, rename, rm } from "node:fs/promises";
import type { LoadMode } from "../model/types.js";
import { ERROR_KINDS, type ErrorKind, type RequestRecord } from "./record.js";

/**
 * The raw per-request records of one part at one level: `partK/concC.records.bin`.
 *
 * Why binary, not JSON lines: a record holds every chunk's arrival time, so 1,000,000 requests of
 * 250 tokens are 250 million times. As gzip'd JSON lines that is ~1.5 GB of text to inflate and
 * parse (measured: ~21 s); as varints it is ~750 MB that decodes in about a second, and merging
 * the parts of a level stays within the 5 s / 1 GiB budget. `orchestrate results --records FILE`
 * prints any file as JSON lines with the keys of docs/metrics.md.
 *
 * Layout (all integers unsigned LEB128 varints unless noted; times are integer microseconds
 * relative to the level's barrier instant, so every part's records share one time line):
 *
 *   "ORCREC1\n"
 *   record*:  index, flags, error code, http status, finish code,
 *             sent − dispatched (client queueing),
 *             [flags & SCHEDULED] zigzag(sent − scheduled),
 *             zigzag(sent), end − sent, prompt_tokens + 1 (0 = no usage), completion_tokens + 1,
 *             chunk count, chunk time deltas (the first from `sent`, then chunk to chunk),
 *             chunk tokens as (tokens, run length) pairs covering every chunk
 *   footer:   UTF-8 JSON (RecordsFooter), then its byte length as u32 LE, then "ORCEND1\n"
 *
 * A file without the footer was cut short (crash, kill) and is rejected as incomplete.
 */

export const RECORDS_FORMAT = "orchestrate-records";
export const RECORDS_VERSION = 2;
const MAGIC = Buffer.from("ORCREC1\n");
const MAGIC_END = Buffer.from("ORCEND1\n");

const FLAG_WARMUP = 1;
const FLAG_SCHEDULED = 2;
const FLAG_USAGE = 4;
const FLAG_CHUNK_TOKENS_EXACT = 8;
const FLAG_DONE = 16;

export interface RecordsFooter {
  format: typeof RECORDS_FORMAT;
  version: number;
  part: number;
  level: string;
  time_unit: "us";
  /** Epoch milliseconds of the part's performance.now() zero, read from the wall clock at the barrier (clock.ts). */
  clock_origin_epoch_ms: number;
  /** The level's barrier instant on the part's clock (µs since its origin): time zero of the records. */
  barrier_us: number;
  /** When the part actually started, relative to the barrier. */
  started_us: number;
  /** The part's steady state: target in flight and warm-up finished … last request issued. */
  steady_from_us: number;
  steady_until_us: number;
  /** When the part finished the level, relative to the barrier. */
  finished_us: number;
  count: number;
  /** Requests the part was asked to measure (excluding warmup); for duration runs, those issued. */
  num_prompts: number;
  warmup: number;
  mode: LoadMode;
  /** Per-client target: concurrency, request rate in req/s, or replay speed. */
  target: number;
  interrupted: boolean;
  finish_reasons: string[];
  /** Error details by request index (the first few hundred). */
  error_details: Record<string, string>;
}

const MAX_ERROR_DETAILS = 500;

/** Appends records as requests finish; `close` writes the footer and moves the file into place. */
export class RecordsWriter {
  private buffer = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  private readonly finishCodes = new Map<string, number>();
  private readonly errorDetails: Record<string, string> = {};
  private errorDetailCount = 0;
  private recordCount = 0;
  private pendingWrite: Promise<unknown> = Promise.resolve();
  private writeError: unknown;

  private constructor(
    private readonly handle: import("node:fs/promises").FileHandle,
    private readonly tempPath: string,
    private readonly finalPath: string,
    /** Part-clock milliseconds of the barrier: time zero. */
    private readonly zeroMs: number,
  ) {
    MAGIC.copy(this.buffer, 0);
    this.used = MAGIC.length;
  }

  static async create(finalPath: string, zeroMs: number): Promise<RecordsWriter> {
    const tempPath = `${finalPath}.${process.pid}.tmp`;
    const handle = await open(tempPath, "w");
    return new RecordsWriter(handle, tempPath, finalPath, zeroMs);
  }

  get count(): number {
    return this.recordCount;
  }

  append(record: RequestRecord): void {
    // A record is at most a few bytes per chunk; make room for the worst case first.
    this.ensure(64 + record.chunkCount * 16);
    const us = (ms: number) => Math.round((ms - this.zeroMs) * 1000);
    const sent = us(record.sentAt);
    let flags = 0;
    if (record.warmup) flags |= FLAG_WARMUP;
    if (record.scheduledAt !== undefined) flags |= FLAG_SCHEDULED;
    if (record.completionTokens !== undefined) flags |= FLAG_USAGE;
    if (record.chunkTokensExact) flags |= FLAG_CHUNK_TOKENS_EXACT;
    if (record.doneReceived) flags |= FLAG_DONE;

    this.varint(record.index);
    this.varint(flags);
    this.varint(record.errorKind ? ERROR_KINDS.indexOf(record.errorKind) + 1 : 0);
    this.varint(record.status);
    this.varint(record.finishReason === undefined ? 0 : this.finishCode(record.finishReason));
    this.varint(Math.max(0, sent - us(record.dispatchedAt)));
    if (record.scheduledAt !== undefined) this.varint(zigzag(sent - us(record.scheduledAt)));
    this.varint(zigzag(sent));
    this.varint(Math.max(0, us(record.endAt) - sent));
    this.varint(record.promptTokens === undefined ? 0 : record.promptTokens + 1);
    this.varint(record.completionTokens === undefined ? 0 : record.completionTokens + 1);
    this.varint(record.chunkCount);
    let previous = sent;
    for (let i = 0; i < record.chunkCount; i++) {
      const t = us(record.chunkTimes[i]!);
      this.varint(Math.max(0, t - previous));
      previous = Math.max(previous, t);
    }
    let i = 0;
    while (i < record.chunkCount) {
      const tokens = record.chunkTokens[i]!;
      let run = 1;
      while (i + run < record.chunkCount && record.chunkTokens[i + run] === tokens) run += 1;
      this.varint(tokens);
      this.varint(run);
      i += run;
    }
    if (record.errorDetail && this.errorDetailCount < MAX_ERROR_DETAILS) {
      this.errorDetails[String(record.index)] = record.errorDetail;
      this.errorDetailCount += 1;
    }
    this.recordCount += 1;
    if (this.used > this.buffer.length - (1 << 16)) this.flush();
  }

  async close(
    footer: Omit<RecordsFooter, "format" | "version" | "finish_reasons" | "error_details" | "count">,
  ): Promise<void> {
    this.flush();
    const full: RecordsFooter = {
      format: RECORDS_FORMAT,
      version: RECORDS_VERSION,
      ...footer,
      count: this.recordCount,
      finish_reasons: [...this.finishCodes.keys()],
      error_details: this.errorDetails,
    };
    const json = Buffer.from(JSON.stringify(full));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(json.length, 0);
    this.queue(Buffer.concat([json, length, MAGIC_END]));
    await this.pendingWrite;
    if (this.writeError) throw this.writeError;
    await this.handle.sync();
    await this.handle.close();
    await rename(this.tempPath, this.finalPath);
  }

  /** Gives up on the file (the level is being discarded). */
  async discard(): Promise<void> {
    await this.pendingWrite.catch(() => {});
    await this.handle.close().catch(() => {});
    await rm(this.tempPath, { force: true });
  }

  private finishCode(reason: string): number {
    let code = this.finishCodes.get(reason);
    if (code === undefined) {
      code = this.finishCodes.size + 1;
      this.finishCodes.set(reason, code);
    }
    return code;
  }

  private flush(): void {
    if (this.used === 0) return;
    const full = this.buffer.subarray(0, this.used);
    this.buffer = Buffer.allocUnsafe(this.buffer.length);
    this.used = 0;
    this.queue(full);
  }

  private queue(bytes: Buffer): void {
    this.pendingWrite = this.pendingWrite.then(async () => {
      if (this.writeError) return;
      try {
        await this.handle.write(bytes);
      } catch (error) {
        this.writeError = error;
      }
    });
  }

  private ensure(bytes: number): void {
    if (this.used + bytes <= this.buffer.length) return;
    this.flush();
    if (bytes > this.buffer.length) this.buffer = Buffer.allocUnsafe(bytes * 2);
  }

  private varint(value: number): void {
    let v = value;
    while (v >= 0x80) {
      this.buffer[this.used++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buffer[this.used++] = v;
  }
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function unzigzag(n: number): number {
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

export class RecordsFormatError extends Error {
  override name = "RecordsFormatError";
}

/** A records file in memory: its footer and the encoded records. */
export interface RecordsFile {
  path: string;
  footer: RecordsFooter;
  body: Buffer;
}

export async function readRecordsFile(path: string): Promise<RecordsFile> {
  const bytes = await readFile(path);
  return parseRecordsFile(path, bytes);
}

/** Only the footer, read from the end of the file (for the window, before the records). */
export async function readRecordsFooter(path: string): Promise<RecordsFooter> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const tailLength = MAGIC_END.length + 4;
    if (size < MAGIC.length + tailLength)
      throw new RecordsFormatError(`${path}: not an orchestrate records file`);
    const tail = Buffer.alloc(tailLength);
    await handle.read(tail, 0, tailLength, size - tailLength);
    if (!tail.subarray(4).equals(MAGIC_END)) {
      throw new RecordsFormatError(`${path}: incomplete records file (the run that wrote it did not finish)`);
    }
    const footerLength = tail.readUInt32LE(0);
    if (footerLength > size - MAGIC.length - tailLength)
      throw new RecordsFormatError(`${path}: corrupt footer`);
    const bytes = Buffer.alloc(footerLength);
    await handle.read(bytes, 0, footerLength, size - tailLength - footerLength);
    return checkFooter(path, bytes.toString("utf8"));
  } finally {
    await handle.close();
  }
}

function checkFooter(path: string, json: string): RecordsFooter {
  let footer: RecordsFooter;
  try {
    footer = JSON.parse(json) as RecordsFooter;
  } catch {
    throw new RecordsFormatError(`${path}: corrupt footer`);
  }
  if (footer.format !== RECORDS_FORMAT || footer.version !== RECORDS_VERSION) {
    throw new RecordsFormatError(
      `${path}: records format ${footer.format} v${footer.version} is not ${RECORDS_FORMAT} v${RECORDS_VERSION}`,
    );
  }
  return footer;
}

export function parseRecordsFile(path: string, bytes: Buffer): RecordsFile {
  const end = bytes.length;
  if (end < MAGIC.length + 12 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new RecordsFormatError(`${path}: not an orchestrate records file`);
  }
  if (!bytes.subarray(end - MAGIC_END.length).equals(MAGIC_END)) {
    throw new RecordsFormatError(`${path}: incomplete records file (the run that wrote it did not finish)`);
  }
  const footerLength = bytes.readUInt32LE(end - MAGIC_END.length - 4);
  const footerStart = end - MAGIC_END.length - 4 - footerLength;
  if (footerStart < MAGIC.length) throw new RecordsFormatError(`${path}: corrupt footer`);
  const footer = checkFooter(path, bytes.toString("utf8", footerStart, footerStart + footerLength));
  return { path, footer, body: bytes.subarray(MAGIC.length, footerStart) };
}

/**
 * Walks the records of a file, decoding each into this (reused) object. Chunk arrays are reused
 * too: read what you need before calling `next()` again.
 */
export class RecordCursor {
  index = 0;
  warmup = false;
  hasSchedule = false;
  /** sent − scheduled, µs. */
  scheduleLagUs = 0;
  /** sent − dispatched: how long the client held the request before it went out, µs. */
  queueUs = 0;
  errorKind: ErrorKind | undefined;
  status = 0;
  finishReason: string | undefined;
  sentUs = 0;
  endUs = 0;
  hasUsage = false;
  promptTokens = 0;
  completionTokens = 0;
  chunkTokensExact = false;
  doneReceived = false;
  chunkCount = 0;
  /** Chunk arrival times, µs since the barrier. */
  chunkUs = new Float64Array(512);
  chunkTokens = new Uint32Array(512);
  private offset = 0;

  constructor(private readonly file: RecordsFile) {}

  next(): boolean {
    if (this.offset >= this.file.body.length) return false;
    this.index = this.varint();
    const flags = this.varint();
    this.warmup = (flags & FLAG_WARMUP) !== 0;
    this.hasSchedule = (flags & FLAG_SCHEDULED) !== 0;
    this.hasUsage = (flags & FLAG_USAGE) !== 0;
    this.chunkTokensExact = (flags & FLAG_CHUNK_TOKENS_EXACT) !== 0;
    this.doneReceived = (flags & FLAG_DONE) !== 0;
    const errorCode = this.varint();
    this.errorKind = errorCode === 0 ? undefined : ERROR_KINDS[errorCode - 1];
    this.status = this.varint();
    const finishCode = this.varint();
    this.finishReason = finishCode === 0 ? undefined : this.file.footer.finish_reasons[finishCode - 1];
    this.queueUs = this.varint();
    this.scheduleLagUs = this.hasSchedule ? unzigzag(this.varint()) : 0;
    this.sentUs = unzigzag(this.varint());
    this.endUs = this.sentUs + this.varint();
    const prompt = this.varint();
    const completion = this.varint();
    this.promptTokens = prompt === 0 ? 0 : prompt - 1;
    this.completionTokens = completion === 0 ? 0 : completion - 1;
    const count = this.varint();
    this.chunkCount = count;
    if (count > this.chunkUs.length) {
      this.chunkUs = new Float64Array(count * 2);
      this.chunkTokens = new Uint32Array(count * 2);
    }
    // The chunk deltas are most of the file: decode them in a local loop, not a call per value.
    const body = this.file.body;
    const chunkUs = this.chunkUs;
    let o = this.offset;
    let t = this.sentUs;
    for (let i = 0; i < count; i++) {
      let byte = body[o++]!;
      let delta = byte & 0x7f;
      let scale = 0x80;
      while (byte >= 0x80) {
        byte = body[o++]!;
        delta += (byte & 0x7f) * scale;
        scale *= 0x80;
      }
      t += delta;
      chunkUs[i] = t;
    }
    this.offset = o;
    let filled = 0;
    while (filled < count) {
      const tokens = this.varint();
      const run = this.varint();
      this.chunkTokens.fill(tokens, filled, Math.min(count, filled + run));
      filled += run;
    }
    if (this.offset > body.length)
      throw new RecordsFormatError(`${this.file.path}: record ${this.index} is cut short`);
    return true;
  }

  /** Output tokens: usage when present, else the chunks' sum. */
  outputTokens(): number {
    if (this.hasUsage) return this.completionTokens;
    let sum = 0;
    for (let i = 0; i < this.chunkCount; i++) sum += this.chunkTokens[i]!;
    return sum;
  }

  private varint(): number {
    const body = this.file.body;
    let byte = body[this.offset++]!;
    if (byte < 0x80) return byte;
    let value = byte & 0x7f;
    let scale = 0x80;
    do {
      byte = body[this.offset++]!;
      value += (byte & 0x7f) * scale;
      scale *= 0x80;
    } while (byte >= 0x80 && this.offset < body.length);
    return value;
  }
}

/** One record as a JSON object with the keys of docs/metrics.md (times in ms, part clock). */
export function recordToJson(cursor: RecordCursor, footer: RecordsFooter): Record<string, unknown> {
  const ms = (us: number) => Math.round(footer.barrier_us + us) / 1000;
  const chunkTimes: number[] = [];
  const chunkTokens: number[] = [];
  for (let i = 0; i < cursor.chunkCount; i++) {
    chunkTimes.push(ms(cursor.chunkUs[i]!));
    chunkTokens.push(cursor.chunkTokens[i]!);
  }
  const out: Record<string, unknown> = {
    part: footer.part,
    level: footer.level,
    index: cursor.index,
    warmup: cursor.warmup,
  };
  if (cursor.hasSchedule) out.scheduled_at = ms(cursor.sentUs - cursor.scheduleLagUs);
  out.dispatched_at = ms(cursor.sentUs - cursor.queueUs);
  out.sent_at = ms(cursor.sentUs);
  out.first_token_at = cursor.chunkCount > 0 ? chunkTimes[0] : null;
  out.last_token_at = cursor.chunkCount > 0 ? chunkTimes[chunkTimes.length - 1] : null;
  out.end_at = ms(cursor.endUs);
  out.chunk_times = chunkTimes;
  out.chunk_tokens = chunkTokens;
  out.chunk_tokens_exact = cursor.chunkTokensExact;
  out.prompt_tokens = cursor.hasUsage ? cursor.promptTokens : null;
  out.completion_tokens = cursor.hasUsage ? cursor.completionTokens : null;
  out.token_source = cursor.hasUsage ? "usage" : "chunks";
  out.finish_reason = cursor.finishReason ?? null;
  out.error_kind = cursor.errorKind ?? null;
  out.error_detail = footer.error_details[String(cursor.index)] ?? null;
  out.status = cursor.status;
  out.done = cursor.doneReceived;
  out.clock_origin_epoch_ms = footer.clock_origin_epoch_ms;
  return out;
}
