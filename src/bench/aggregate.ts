import type { LatencyMetric, LatencyStats } from "../model/types.js";
import type { ErrorKind } from "./record.js";
import {
  RecordCursor,
  type RecordsFile,
  type RecordsFooter,
  readRecordsFile,
  readRecordsFooter,
} from "./records-file.js";
import { DIRECT_BINS, MicrosHistogram, Samples, SmallIntCounts } from "./stats.js";
import { STEADINESS_SLICES } from "./steadiness.js";

/**
 * The numbers of a level, computed from raw records: one part's (its `partK/concC.json`) or all
 * parts' merged (`all-parts/concC.json`). One pass over the records; memory stays flat (per-chunk
 * values go into exact histograms, per-request values into arrays), so a million records merge in
 * seconds.
 *
 * Throughput is measured over a window, not per part and summed: every part records its steady
 * state (from when it had its target in flight and its warm-up finished, to when it issued its last
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
  /** There was no shared steady state: throughput falls back to the whole span. */
  disjoint: boolean;
  /** Why not: the parts' steady states did not overlap, or a part never had one. */
  fallback?: "disjoint" | "no_steady_state";
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
  /**
   * Output tokens per second in each of STEADINESS_SLICES equal slices of the window, in time
   * order; empty when the window is a fallback (there is no steady state to slice).
   */
  sliceOutputRates: number[];
  /** Median send → end of every measured request, successful or not, ms. */
  medianRequestMs: number;
  scheduleLagMs?: LatencyStats;
  /** How long the client held requests before they went out (all requests). */
  clientQueueMs?: LatencyStats;
  tokenSource: "usage" | "chunks" | "mixed";
  /** Requests whose chunk token counts were estimated (no per-event usage from the server). */
  estimatedChunkTokens: number;
  promptTokenMismatches: number;
  promptTokensSeen: number[];
  completionTokenOverruns: number;
  interrupted: boolean;
}

/** Aggregates records already in memory (tests, single parts). */
export function aggregateRecords(files: readonly RecordsFile[], options: AggregateOptions): LevelAggregate {
  if (files.length === 0) throw new RangeError("no records to aggregate");
  const accumulator = new LevelAccumulator(
    files.map((f) => f.footer),
    options,
  );
  for (const file of files) accumulator.add(file);
  return accumulator.result();
}

/**
 * Aggregates records files one at a time (footers first, for the window), so only one part's
 * records are in memory at once.
 */
export async function aggregateRecordFiles(
  paths: readonly string[],
  options: AggregateOptions,
): Promise<LevelAggregate> {
  if (paths.length === 0) throw new RangeError("no records to aggregate");
  const footers = await Promise.all(paths.map((p) => readRecordsFooter(p)));
  const accumulator = new LevelAccumulator(footers, options);
  // Read the next part while this one is being added: the disk and the CPU work side by side.
  let next = readRecordsFile(paths[0]!);
  for (let i = 0; i < paths.length; i++) {
    const file = await next;
    if (i + 1 < paths.length) next = readRecordsFile(paths[i + 1]!);
    accumulator.add(file);
  }
  return accumulator.result();
}

/** One pass over each part's records; `result()` once all were added. */
export class LevelAccumulator {
  private readonly window: Window;
  private readonly ttft = new Samples();
  private readonly tpot = new Samples();
  private readonly e2el = new Samples();
  private readonly itl = new MicrosHistogram();
  /** Gaps of chunks with k ≠ 1 tokens, and those gaps spread per token (per-token ITL = itl − these + extra). */
  private readonly multiTokenGaps = new MicrosHistogram();
  private readonly itlPerTokenExtra = new MicrosHistogram();
  private oneTokenChunks = 0;
  private readonly tokensPerChunk = new SmallIntCounts();
  private readonly scheduleLag = new Samples();
  private readonly clientQueue = new MicrosHistogram();
  /** Request durations in whole milliseconds (µs would send every request to the overflow map). */
  private readonly requestMs = new MicrosHistogram();
  private readonly tokensPerSecond = new PerSecond();
  private readonly activePerSecond = new PerSecond();
  private readonly errorsByKind: Partial<Record<ErrorKind, number>> = {};
  private readonly promptTokensSeen = new Set<number>();
  private readonly achievedConcurrencyByPart: Record<string, number> = {};
  private readonly inWindow = {
    requests: 0,
    outputTokens: 0,
    inputTokens: 0,
    goodRequests: 0,
    goodOutputTokens: 0,
  };
  /** Output tokens that arrived in each slice of the window (see sliceOutputRates). */
  private readonly sliceTokens = new Float64Array(STEADINESS_SLICES);
  private readonly slicesPerUs: number;
  private readonly parts: number[] = [];
  private issued = 0;
  private completed = 0;
  private failed = 0;
  private warmupRequests = 0;
  private totalInput = 0;
  private totalOutput = 0;
  private goodRequests = 0;
  private goodOutput = 0;
  private spanStart = Number.POSITIVE_INFINITY;
  private spanEnd = Number.NEGATIVE_INFINITY;
  private inFlightUsInWindow = 0;
  private sentInWindow = 0;
  private withUsage = 0;
  private estimated = 0;
  private promptMismatches = 0;
  private overruns = 0;
  private numPrompts = 0;
  private interrupted = false;

  constructor(
    footers: readonly RecordsFooter[],
    private readonly options: AggregateOptions,
  ) {
    this.window = sharedWindow(footers);
    const lengthUs = this.window.endUs - this.window.startUs;
    this.slicesPerUs = lengthUs > 0 ? STEADINESS_SLICES / lengthUs : 0;
  }

  add(file: RecordsFile): void {
    const { options, window } = this;
    const slo = options.slo;
    const footer = file.footer;
    this.parts.push(footer.part);
    this.numPrompts += footer.num_prompts;
    this.interrupted ||= footer.interrupted;
    let partInFlightUs = 0;
    const partFrom = footer.steady_from_us;
    const partUntil = footer.steady_until_us;
    const cursor = new RecordCursor(file);
    while (cursor.next()) {
      const sent = cursor.sentUs;
      const end = cursor.endUs;
      // Every request in flight loads the server, warmup and failures included.
      this.inFlightUsInWindow += overlap(sent, end, window.startUs, window.endUs);
      partInFlightUs += overlap(sent, end, partFrom, partUntil);
      if (cursor.hasSchedule) this.scheduleLag.add(cursor.scheduleLagUs / 1000);
      this.clientQueue.add(cursor.queueUs);
      if (cursor.warmup) {
        this.warmupRequests += 1;
        continue;
      }
      this.issued += 1;
      this.requestMs.add(Math.round((end - sent) / 1000));
      if (sent >= window.startUs && sent <= window.endUs) this.sentInWindow += 1;
      if (sent < this.spanStart) this.spanStart = sent;
      if (end > this.spanEnd) this.spanEnd = end;
      if (cursor.errorKind !== undefined) {
        this.failed += 1;
        this.errorsByKind[cursor.errorKind] = (this.errorsByKind[cursor.errorKind] ?? 0) + 1;
        continue;
      }

      this.completed += 1;
      const n = cursor.chunkCount;
      const times = cursor.chunkUs;
      const tokens = cursor.chunkTokens;
      const output = cursor.outputTokens();
      const prompt = cursor.hasUsage ? cursor.promptTokens : options.inputLen;
      this.totalInput += prompt;
      this.totalOutput += output;
      if (cursor.hasUsage) {
        this.withUsage += 1;
        if (cursor.promptTokens !== options.inputLen) {
          this.promptMismatches += 1;
          if (this.promptTokensSeen.size < 10) this.promptTokensSeen.add(cursor.promptTokens);
        }
      }
      if (output > options.outputLen) this.overruns += 1;
      if (!cursor.chunkTokensExact) this.estimated += 1;

      const first = times[0]!;
      const last = times[n - 1]!;
      const ttftMs = (first - sent) / 1000;
      const e2elMs = (last - sent) / 1000;
      this.ttft.add(ttftMs);
      this.e2el.add(e2elMs);
      const tpotMs = output > 1 ? (e2elMs - ttftMs) / (output - 1) : undefined;
      if (tpotMs !== undefined) this.tpot.add(tpotMs);

      const windowTokens = this.addChunks(times, tokens, n);
      this.inWindow.outputTokens += windowTokens;
      if (first >= window.startUs && first <= window.endUs) this.inWindow.inputTokens += prompt;
      const endsInWindow = end >= window.startUs && end <= window.endUs;
      if (endsInWindow) this.inWindow.requests += 1;
      for (let s = Math.floor(sent / 1e6); s <= Math.floor(end / 1e6); s++) this.activePerSecond.add(s, 1);

      if (slo && meets(slo, ttftMs, tpotMs, e2elMs)) {
        this.goodRequests += 1;
        this.goodOutput += output;
        if (endsInWindow) {
          this.inWindow.goodRequests += 1;
          this.inWindow.goodOutputTokens += windowTokens;
        }
      }
    }
    const partSeconds = (partUntil - partFrom) / 1e6;
    this.achievedConcurrencyByPart[String(footer.part)] =
      partSeconds > 0 ? partInFlightUs / 1e6 / partSeconds : 0;
  }

  /**
   * The per-chunk work of one request (the hot loop: 250 million iterations for a million
   * requests): ITL into the exact histogram, tokens per chunk, tokens per second, and the tokens
   * that arrived inside the window, which it returns. One-token chunks (the common case) take the
   * shortest path; chunks of several tokens also feed the per-token ITL correction.
   */
  private addChunks(times: Float64Array, tokens: Uint32Array, n: number): number {
    const { startUs, endUs } = this.window;
    const bins = this.itl.bins;
    const slices = this.sliceTokens;
    const slicesPerUs = this.slicesPerUs;
    const lastSlice = STEADINESS_SLICES - 1;
    // A chunk's steadiness slice is found by crossing slice boundaries, as its second is below,
    // not by a division per chunk: this loop runs once for every chunk of every request. A slice's
    // tokens are the growth of windowTokens while it lasted (no closure: captured variables would
    // live on the heap, and this is the hottest loop of the merge).
    let slice = -1;
    let sliceEnd = startUs;
    let sliceMark = 0;
    let previous = times[0]!;
    const firstTokens = tokens[0]!;
    let windowTokens = 0;
    if (previous >= startUs && previous <= endUs) {
      slice = Math.min(lastSlice, ((previous - startUs) * slicesPerUs) | 0);
      sliceEnd = slice === lastSlice ? Number.POSITIVE_INFINITY : startUs + (slice + 1) / slicesPerUs;
      windowTokens = firstTokens;
    }
    let second = Math.floor(previous / 1e6);
    let secondEnd = (second + 1) * 1e6;
    let secondTokens = firstTokens;
    let gapSum = 0;
    let ones = firstTokens === 1 ? 1 : 0;
    if (firstTokens !== 1) this.tokensPerChunk.add(firstTokens);
    for (let j = 1; j < n; j++) {
      const t = times[j]!;
      const k = tokens[j]!;
      const gap = t - previous;
      previous = t;
      if (gap < DIRECT_BINS) bins[gap]! += 1;
      else this.itl.addOverflow(gap, 1);
      gapSum += gap;
      if (k === 1) ones += 1;
      else this.multiTokenChunk(gap, k);
      if (t >= startUs && t <= endUs) {
        if (t >= sliceEnd) {
          if (slice >= 0) slices[slice]! += windowTokens - sliceMark;
          sliceMark = windowTokens;
          slice = Math.min(lastSlice, ((t - startUs) * slicesPerUs) | 0);
          sliceEnd = slice === lastSlice ? Number.POSITIVE_INFINITY : startUs + (slice + 1) / slicesPerUs;
        }
        windowTokens += k;
      }
      if (t >= secondEnd) {
        this.tokensPerSecond.add(second, secondTokens);
        second = Math.floor(t / 1e6);
        secondEnd = (second + 1) * 1e6;
        secondTokens = 0;
      }
      secondTokens += k;
    }
    this.tokensPerSecond.add(second, secondTokens);
    if (slice >= 0) slices[slice]! += windowTokens - sliceMark;
    this.itl.addedDirect(n - 1, gapSum);
    this.oneTokenChunks += ones;
    return windowTokens;
  }

  /** A chunk of k ≠ 1 tokens: its gap counts k times at gap / k in the per-token ITL. */
  private multiTokenChunk(gap: number, k: number): void {
    this.tokensPerChunk.add(k);
    this.multiTokenGaps.add(gap);
    if (k > 0) this.itlPerTokenExtra.add(Math.round(gap / k), k);
  }

  result(): LevelAggregate {
    const window = this.window;
    const spanStart = Number.isFinite(this.spanStart) ? this.spanStart : 0;
    const spanEnd = Number.isFinite(this.spanEnd) ? this.spanEnd : 0;
    const latency: Partial<Record<LatencyMetric, LatencyStats>> = {};
    const put = (metric: LatencyMetric, stats: LatencyStats | undefined) => {
      if (stats) latency[metric] = stats;
    };
    put("ttft", this.ttft.stats());
    put("tpot", this.tpot.stats());
    put("itl", this.itl.statsMs());
    put("e2el", this.e2el.stats());

    const aggregate: LevelAggregate = {
      parts: this.parts,
      numPrompts: this.numPrompts,
      issued: this.issued,
      completed: this.completed,
      failed: this.failed,
      warmupRequests: this.warmupRequests,
      errorsByKind: this.errorsByKind,
      totalInputTokens: this.totalInput,
      totalOutputTokens: this.totalOutput,
      span: { startUs: spanStart, endUs: spanEnd, seconds: Math.max(0, spanEnd - spanStart) / 1e6 },
      window,
      inWindow: this.inWindow,
      goodRequests: this.goodRequests,
      goodOutputTokens: this.goodOutput,
      latency,
      maxOutputTokensPerS: this.tokensPerSecond.max(),
      maxConcurrentRequests: this.activePerSecond.max(),
      achievedConcurrency: window.seconds > 0 ? this.inFlightUsInWindow / 1e6 / window.seconds : 0,
      achievedConcurrencyByPart: this.achievedConcurrencyByPart,
      achievedRate: window.seconds > 0 ? this.sentInWindow / window.seconds : 0,
      sliceOutputRates:
        window.fallback === undefined && window.seconds > 0
          ? Array.from(this.sliceTokens, (tokens) => tokens / (window.seconds / STEADINESS_SLICES))
          : [],
      medianRequestMs: this.requestMs.statsDividedBy(1)?.median ?? 0,
      tokenSource: this.withUsage === this.completed ? "usage" : this.withUsage === 0 ? "chunks" : "mixed",
      estimatedChunkTokens: this.estimated,
      promptTokenMismatches: this.promptMismatches,
      promptTokensSeen: [...this.promptTokensSeen],
      completionTokenOverruns: this.overruns,
      interrupted: this.interrupted,
    };
    const perTokenHistogram = this.itl.clone();
    perTokenHistogram.merge(this.multiTokenGaps, -1);
    perTokenHistogram.merge(this.itlPerTokenExtra);
    const perToken = perTokenHistogram.statsMs();
    if (perToken) aggregate.itlPerToken = perToken;
    this.tokensPerChunk.add(1, this.oneTokenChunks);
    this.oneTokenChunks = 0;
    const chunks = this.tokensPerChunk.summary();
    if (chunks) aggregate.tokensPerChunk = chunks;
    const lag = this.scheduleLag.stats();
    if (lag) aggregate.scheduleLagMs = lag;
    const queue = this.clientQueue.statsMs();
    if (queue) aggregate.clientQueueMs = queue;
    return aggregate;
  }
}

/** Totals per whole second of the level's time line (seconds ≥ 0; earlier ones are clamped). */
class PerSecond {
  private values = new Float64Array(64);

  add(second: number, value: number): void {
    const i = Math.max(0, second);
    if (i >= this.values.length) {
      const grown = new Float64Array(Math.max(i + 1, this.values.length * 2));
      grown.set(this.values);
      this.values = grown;
    }
    this.values[i]! += value;
  }

  max(): number {
    let max = 0;
    for (const v of this.values) if (v > max) max = v;
    return max;
  }
}

/**
 * Where every part was in its steady state at once. When there is no such time, the window is the
 * whole span of the level instead, marked `disjoint`, and the results say why: `no_steady_state`
 * when a part never had a steady state of its own (it issued its last request before it reached
 * its target in flight, e.g. requests per level ≤ concurrency), `disjoint` when every part had
 * one but they did not overlap.
 */
export function sharedWindow(footers: readonly RecordsFooter[]): Window {
  let start = Number.NEGATIVE_INFINITY;
  let end = Number.POSITIVE_INFINITY;
  for (const footer of footers) {
    start = Math.max(start, footer.steady_from_us);
    end = Math.min(end, footer.steady_until_us);
  }
  if (end - start >= 1000)
    return { startUs: start, endUs: end, seconds: (end - start) / 1e6, disjoint: false };
  let spanStart = Number.POSITIVE_INFINITY;
  let spanEnd = Number.NEGATIVE_INFINITY;
  for (const footer of footers) {
    spanStart = Math.min(spanStart, footer.started_us);
    spanEnd = Math.max(spanEnd, footer.finished_us);
  }
  const degenerate = footers.some((f) => f.steady_until_us - f.steady_from_us < 1000);
  return {
    startUs: spanStart,
    endUs: spanEnd,
    seconds: Math.max(0, spanEnd - spanStart) / 1e6,
    disjoint: true,
    fallback: degenerate ? "no_steady_state" : "disjoint",
  };
}

function overlap(a0: number, a1: number, b0: number, b1: number): number {
  return Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
}

function meets(slo: Slo, ttftMs: number, tpotMs: number | undefined, e2elMs: number): boolean {
  if (slo.ttftMs !== undefined && ttftMs > slo.ttftMs) return false;
  if (slo.tpotMs !== undefined && tpotMs !== undefined && tpotMs > slo.tpotMs) return false;
  if (slo.e2elMs !== undefined && e2elMs > slo.e2elMs) return false;
  return true;
}
