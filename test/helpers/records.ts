import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ErrorKind, RequestRecord } from "../../src/bench/record.js";
import {
  RecordCursor,
  type RecordsFile,
  type RecordsFooter,
  RecordsWriter,
  readRecordsFile,
} from "../../src/bench/records-file.js";

/** A request in test shorthand: times in ms on the level's time line (barrier = 0). */
export interface TestRequest {
  sent: number;
  /** When the client handed it to the pool (defaults to `sent`). */
  dispatched?: number;
  chunks: number[];
  tokens?: number[];
  prompt?: number;
  /** Defaults to the sum of `tokens` (one per chunk). */
  completion?: number;
  error?: ErrorKind;
  end?: number;
  warmup?: boolean;
  scheduled?: number;
  exact?: boolean;
}

export function toRecord(r: TestRequest, index: number): RequestRecord {
  const tokens = r.tokens ?? r.chunks.map(() => 1);
  const record: RequestRecord = {
    index,
    warmup: r.warmup ?? false,
    dispatchedAt: r.dispatched ?? r.sent,
    sentAt: r.sent,
    endAt: r.end ?? r.chunks.at(-1) ?? r.sent,
    chunkTimes: Float64Array.from(r.chunks),
    chunkTokens: Uint32Array.from(tokens),
    chunkCount: r.chunks.length,
    promptTokens: r.prompt ?? 100,
    completionTokens: r.completion ?? tokens.reduce((a, b) => a + b, 0),
    chunkTokensExact: r.exact ?? true,
    status: r.error === "connect" ? 0 : 200,
    doneReceived: r.error === undefined,
  };
  if (r.error) record.errorKind = r.error;
  if (r.scheduled !== undefined) record.scheduledAt = r.scheduled;
  return record;
}

export type FooterFields = Partial<Omit<RecordsFooter, "format" | "version" | "count">>;

/** Writes a records file for part `part` and reads it back. */
export async function recordsFile(
  requests: TestRequest[],
  footer: FooterFields = {},
  dir = mkdtempSync(join(tmpdir(), "records-")),
): Promise<RecordsFile> {
  const part = footer.part ?? 1;
  const path = join(dir, `part${part}-conc1.records.bin`);
  const writer = await RecordsWriter.create(path, 0);
  for (const [i, r] of requests.entries()) writer.append(toRecord(r, i));
  const sends = requests.filter((r) => !r.warmup).map((r) => r.sent);
  const ends = requests.map((r) => r.end ?? r.chunks.at(-1) ?? r.sent);
  await writer.close({
    part,
    level: "conc1",
    time_unit: "us",
    clock_origin_epoch_ms: 1_700_000_000_000,
    barrier_us: 0,
    started_us: 0,
    steady_from_us: (footer.steady_from_us ?? Math.min(...sends) * 1000) as number,
    steady_until_us: (footer.steady_until_us ?? Math.max(...sends) * 1000) as number,
    finished_us: Math.max(...ends) * 1000,
    num_prompts: requests.filter((r) => !r.warmup).length,
    warmup: requests.filter((r) => r.warmup).length,
    mode: "concurrency",
    target: 1,
    interrupted: false,
    ...footer,
  });
  return readRecordsFile(path);
}

/** One request as a part recorded it, with every time in epoch milliseconds. */
export interface EpochRecord {
  index: number;
  /** The end of its request id (`-p<part>-<level>-<index>`; the run id comes first). */
  idSuffix: string;
  scheduledAt?: number;
  sentAt: number;
  chunkTimes: number[];
  chunkTokens: number[];
}

/**
 * The requests of a part's records file on the epoch time line, so they can be laid beside a
 * test server's own timestamps (request ids as the part sends them: `<run>-p<part>-<level>-<i>`).
 */
export async function epochRecords(path: string): Promise<EpochRecord[]> {
  const file = await readRecordsFile(path);
  const { footer } = file;
  const epoch = (us: number) => footer.clock_origin_epoch_ms + (footer.barrier_us + us) / 1000;
  const cursor = new RecordCursor(file);
  const records: EpochRecord[] = [];
  while (cursor.next()) {
    const record: EpochRecord = {
      index: cursor.index,
      idSuffix: `-p${footer.part}-${footer.level}-${cursor.index}`,
      sentAt: epoch(cursor.sentUs),
      chunkTimes: Array.from(cursor.chunkUs.subarray(0, cursor.chunkCount), epoch),
      chunkTokens: Array.from(cursor.chunkTokens.subarray(0, cursor.chunkCount)),
    };
    if (cursor.hasSchedule) record.scheduledAt = epoch(cursor.sentUs - cursor.scheduleLagUs);
    records.push(record);
  }
  return records;
}
