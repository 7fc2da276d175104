import type { LatencyMetric, LatencyStats } from "../results/model.js";
import type { ErrorKind } from "./record.js";
import { RecordCursor, type RecordsFile } from "./records-file.js";
import { MicrosHistogram, Samples, SmallIntCounts } from "./stats.js";

/**
 * The numbers of a level, computed from raw records: one part's (its `partK/concC.json`) or all
 * parts' merged (`all-parts/concC.json`). One pass over the records; memory stays flat (per-chunk
 * values go into exact histograms, per-request values into arrays), so a million records merge in
 * seconds.
 *
 * Throughput is measured over a window, not per part and summed: every part records its steady
 * state (from when it had its target in flight and its warmup issued, to when it issued its last
 * request), all on the time line of the level's barrier, and the window is where all of them
 * overlap. Tokens and requests that completed inside it, divided by its length, are what the
 * server sustained while every client was pushing. Percentiles come from the pooled samples.
 */

export interface Slo {
  ttftMs?: number;
  tpotMs?: number;
  e2elMs?: number;
}

export interface AggregateOptions {
  inputLen: number;
  outputLen: number;
  slo?: Slo;
}

export interface Window {
  startUs: number;
  endUs: number;
  seconds: number;
  /** The parts' steady states did not overlap: throughput falls back to the whole span. */
  disjoint: boolean;
}

export interface LevelAggregate {
  parts: number[];
  numPrompts: number;
  issued: number;
  completed: number;
  failed: number;
  warmupRequests: number;
  errorsByKind: Partial<Record<ErrorKind, number>>;
  totalInputTokens: number;
  totalOutputTokens: number;
  /** First measured send → last measured completion (vLLM's `duration`). */
  span: { startUs: number; endUs: number; seconds: number };
  window: Window;
  /** Completed inside the window. */
  inWindow: {
    requests: number;
    outputTokens: number;
    inputTokens: number;
    goodRequests: number;
    goodOutputTokens: number;
  };
  /** Meeting every SLO, over the whole run (when SLOs were given). */
  goodRequests: number;
  goodOutputTokens: number;
  latency: Partial<Record<LatencyMetric, LatencyStats>>;
  /** Gap per token: each chunk's gap divided by its tokens, weighted by its tokens. */
  itlPerToken?: LatencyStats;
  tokensPerChunk?: { mean: number; p50: number; p99: number; max: number; count: number };
  maxOutputTokensPerS: number;
  maxConcurrentRequests: number;
  /** Time-weighted mean of requests in flight over the window, all parts together. */
  achievedConcurrency: number;
  /** The same for each part over its own steady state. */
  achievedConcurrencyByPart: Record<string, number>;
  /** Measured requests sent inside the window per second. */
  achievedRate: number;
  scheduleLagMs?: LatencyStats;
  tokenSource: "usage" | "chunks" | "mixed";
  /** Requests whose chunk token counts were estimated (no per-event usage from the server). */
  estimatedChunkTokens: number;
  promptTokenMismatches: number;
  promptTokensSeen: number[];
  completionTokenOverruns: number;
  interrupted: boolean;
}

export function aggregateRecords(files: readonly RecordsFile[], options: AggregateOptions): LevelAggregate {
  if (files.length === 0) throw new RangeError("no records to aggregate");
  const window = sharedWindow(files);
  const ttft = new Samples();
  const tpot = new Samples();
  const e2el = new Samples();
  const itl = new MicrosHistogram();
  const itlPerToken = new MicrosHistogram();
  const tokensPerChunk = new SmallIntCounts();
  const scheduleLag = new Samples();
  const tokensPerSecond: number[] = [];
  const activePerSecond: number[] = [];
  const errorsByKind: Partial<Record<ErrorKind, number>> = {};
  const promptTokensSeen = new Set<number>();
  const achievedConcurrencyByPart: Record<string, number> = {};
  const inWindow = { requests: 0, outputTokens: 0, inputTokens: 0, goodRequests: 0, goodOutputTokens: 0 };
  const slo = options.slo;

  let issued = 0;
  let completed = 0;
  let failed = 0;
  let warmupRequests = 0;
  let totalInput = 0;
  let totalOutput = 0;
  let goodRequests = 0;
  let goodOutput = 0;
  let spanStart = Number.POSITIVE_INFINITY;
  let spanEnd = Number.NEGATIVE_INFINITY;
  let inFlightUsInWindow = 0;
  let sentInWindow = 0;
  let withUsage = 0;
  let estimated = 0;
  let promptMismatches = 0;
  let overruns = 0;
  let numPrompts = 0;
  let interrupted = false;

  for (const file of files) {
    const footer = file.footer;
    numPrompts += footer.num_prompts;
    interrupted ||= footer.interrupted;
    let partInFlightUs = 0;
    const partFrom = footer.steady_from_us;
    const partUntil = footer.steady_until_us;
    const cursor = new RecordCursor(file);
    while (cursor.next()) {
      const sent = cursor.sentUs;
      const end = cursor.endUs;
      // Every request in flight loads the server, warmup and failures included.
      inFlightUsInWindow += overlap(sent, end, window.startUs, window.endUs);
      partInFlightUs += overlap(sent, end, partFrom, partUntil);
      if (cursor.hasSchedule) scheduleLag.add(cursor.scheduleLagUs / 1000);
      if (cursor.warmup) {
        warmupRequests += 1;
        continue;
      }
      issued += 1;
      if (sent >= window.startUs && sent <= window.endUs) sentInWindow += 1;
      if (sent < spanStart) spanStart = sent;
      if (end > spanEnd) spanEnd = end;
      if (cursor.errorKind !== undefined) {
        failed += 1;
        errorsByKind[cursor.errorKind] = (errorsByKind[cursor.errorKind] ?? 0) + 1;
        continue;
      }

      completed += 1;
      const n = cursor.chunkCount;
      const times = cursor.chunkUs;
      const tokens = cursor.chunkTokens;
      const output = cursor.outputTokens();
      const prompt = cursor.hasUsage ? cursor.promptTokens : options.inputLen;
      totalInput += prompt;
      totalOutput += output;
      if (cursor.hasUsage) {
        withUsage += 1;
        if (cursor.promptTokens !== options.inputLen) {
          promptMismatches += 1;
          if (promptTokensSeen.size < 10) promptTokensSeen.add(cursor.promptTokens);
        }
      }
      if (output > options.outputLen) overruns += 1;
      if (!cursor.chunkTokensExact) estimated += 1;

      const first = times[0]!;
      const last = times[n - 1]!;
      const ttftMs = (first - sent) / 1000;
      const e2elMs = (last - sent) / 1000;
      ttft.add(ttftMs);
      e2el.add(e2elMs);
      const tpotMs = output > 1 ? (e2elMs - ttftMs) / (output - 1) : undefined;
      if (tpotMs !== undefined) tpot.add(tpotMs);

      let windowTokens = 0;
      tokensPerChunk.add(tokens[0]!);
      if (first >= window.startUs && first <= window.endUs) windowTokens += tokens[0]!;
      addToSecond(tokensPerSecond, first, tokens[0]!);
      for (let j = 1; j < n; j++) {
        const t = times[j]!;
        const k = tokens[j]!;
        const gap = t - times[j - 1]!;
        itl.add(gap);
        if (k > 0) itlPerToken.add(Math.round(gap / k), k);
        tokensPerChunk.add(k);
        if (t >= window.startUs && t <= window.endUs) windowTokens += k;
        addToSecond(tokensPerSecond, t, k);
      }
      inWindow.outputTokens += windowTokens;
      if (first >= window.startUs && first <= window.endUs) inWindow.inputTokens += prompt;
      const endsInWindow = end >= window.startUs && end <= window.endUs;
      if (endsInWindow) inWindow.requests += 1;
      for (let s = Math.floor(sent / 1e6); s <= Math.floor(end / 1e6); s++) {
        activePerSecond[s] = (activePerSecond[s] ?? 0) + 1;
      }

      if (slo && meets(slo, ttftMs, tpotMs, e2elMs)) {
        goodRequests += 1;
        goodOutput += output;
        if (endsInWindow) {
          inWindow.goodRequests += 1;
          inWindow.goodOutputTokens += windowTokens;
        }
      }
    }
    const partSeconds = (partUntil - partFrom) / 1e6;
    achievedConcurrencyByPart[String(footer.part)] = partSeconds > 0 ? partInFlightUs / 1e6 / partSeconds : 0;
  }

  if (!Number.isFinite(spanStart)) {
    spanStart = 0;
    spanEnd = 0;
  }
  const latency: Partial<Record<LatencyMetric, LatencyStats>> = {};
  const put = (metric: LatencyMetric, stats: LatencyStats | undefined) => {
    if (stats) latency[metric] = stats;
  };
  put("ttft", ttft.stats());
  put("tpot", tpot.stats());
  put("itl", itl.statsMs());
  put("e2el", e2el.stats());

  const aggregate: LevelAggregate = {
    parts: files.map((f) => f.footer.part),
    numPrompts,
    issued,
    completed,
    failed,
    warmupRequests,
    errorsByKind,
    totalInputTokens: totalInput,
    totalOutputTokens: totalOutput,
    span: { startUs: spanStart, endUs: spanEnd, seconds: Math.max(0, spanEnd - spanStart) / 1e6 },
    window,
    inWindow,
    goodRequests,
    goodOutputTokens: goodOutput,
    latency,
    maxOutputTokensPerS: Math.max(0, ...tokensPerSecond.filter((x) => x !== undefined)),
    maxConcurrentRequests: Math.max(0, ...activePerSecond.filter((x) => x !== undefined)),
    achievedConcurrency: window.seconds > 0 ? inFlightUsInWindow / 1e6 / window.seconds : 0,
    achievedConcurrencyByPart,
    achievedRate: window.seconds > 0 ? sentInWindow / window.seconds : 0,
    tokenSource: withUsage === completed ? "usage" : withUsage === 0 ? "chunks" : "mixed",
    estimatedChunkTokens: estimated,
    promptTokenMismatches: promptMismatches,
    promptTokensSeen: [...promptTokensSeen],
    completionTokenOverruns: overruns,
    interrupted,
  };
  const perToken = itlPerToken.statsMs();
  if (perToken) aggregate.itlPerToken = perToken;
  const chunks = tokensPerChunk.summary();
  if (chunks) aggregate.tokensPerChunk = chunks;
  const lag = scheduleLag.stats();
  if (lag) aggregate.scheduleLagMs = lag;
  return aggregate;
}

/**
 * Where every part was in its steady state at once. When the parts never overlapped, the window
 * is the whole span of the level instead, marked `disjoint`, and the results say so.
 */
export function sharedWindow(files: readonly RecordsFile[]): Window {
  let start = Number.NEGATIVE_INFINITY;
  let end = Number.POSITIVE_INFINITY;
  for (const { footer } of files) {
    start = Math.max(start, footer.steady_from_us);
    end = Math.min(end, footer.steady_until_us);
  }
  if (end - start >= 1000)
    return { startUs: start, endUs: end, seconds: (end - start) / 1e6, disjoint: false };
  let spanStart = Number.POSITIVE_INFINITY;
  let spanEnd = Number.NEGATIVE_INFINITY;
  for (const { footer } of files) {
    spanStart = Math.min(spanStart, footer.started_us);
    spanEnd = Math.max(spanEnd, footer.finished_us);
  }
  return {
    startUs: spanStart,
    endUs: spanEnd,
    seconds: Math.max(0, spanEnd - spanStart) / 1e6,
    disjoint: true,
  };
}

function overlap(a0: number, a1: number, b0: number, b1: number): number {
  return Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
}

function addToSecond(perSecond: number[], us: number, tokens: number): void {
  const s = Math.floor(us / 1e6);
  perSecond[s] = (perSecond[s] ?? 0) + tokens;
}

function meets(slo: Slo, ttftMs: number, tpotMs: number | undefined, e2elMs: number): boolean {
  if (slo.ttftMs !== undefined && ttftMs > slo.ttftMs) return false;
  if (slo.tpotMs !== undefined && tpotMs !== undefined && tpotMs > slo.tpotMs) return false;
  if (slo.e2elMs !== undefined && e2elMs > slo.e2elMs) return false;
  return true;
}
