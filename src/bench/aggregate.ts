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
 * overlap. Every rate counts each completed request by the share of its time in flight that lies
 * inside the window (see windowShare), divided by the window's length: what the server sustained
 * while every client was pushing. Percentiles come from the pooled samples.
 */

export interface Slo {
  ttftMs?: number;
  tpotMs?: number;
  e2elMs?: number;
}

export interface AggregateOptions {
  /**
   * What request i (its index in the part's sequence) asked for: its prompt and answer lengths.
   * `promptLengthEstimated`: the prompt length is not exact (a dataset's text, estimated; or the
   * mean of rows dealt across parts, which is all a merged level knows), so it is not compared
   * with the server's count.
   */
  requested: (index: number) => RequestedLengths;
  slo?: Slo;
}

export interface RequestedLengths {
  inputTokens: number;
  outputTokens: number;
  promptLengthEstimated?: boolean;
}

/** The server's prompt count minus the requested length, over the requests with usage. */
export interface PromptDeviation {
  requests: number;
  mean: number;
  min: number;
  max: number;
  /** Mean requested length, and mean server-counted length, of those requests. */
  requestedMean: number;
  servedMean: number;
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
  /**
   * What the window holds of the completed requests: each request, its output and input tokens,
   * and whether it was good, counted by the share of its time in flight inside the window (so
   * fractional; see windowShare).
   */
  inWindow: {
    requests: number;
    outputTokens: number;
    inputTokens: number;
    goodRequests: number;
    goodOutputTokens: number;
  };
  /** Each part's share of `inWindow`, by part number: the parts' shares add up to it. */
  inWindowByPart: Record<string, { requests: number; outputTokens: number }>;
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
  /** The same for each part over its own steady state; absent for a part that had none. */
  achievedConcurrencyByPart: Record<string, number>;
  /** Measured requests sent inside the window per second. */
  achievedRate: number;
  /**
   * Output tokens per second in each of STEADINESS_SLICES equal slices of the window, in time
   * order, by the window's own rule (each request's output spread over its time in flight); empty
   * when the window is a fallback (there is no steady state to slice).
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
  /** Undefined without usage. A chat template's tokens show up here (constant per request). */
  promptDeviation: PromptDeviation | undefined;
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
  private readonly inWindowByPart: Record<string, { requests: number; outputTokens: number }> = {};
  private readonly inWindow = {
    requests: 0,
    outputTokens: 0,
    inputTokens: 0,
    goodRequests: 0,
    goodOutputTokens: 0,
  };
  /** Output tokens attributed to each slice of the window (see sliceOutputRates). */
  private readonly sliceTokens = new Float64Array(STEADINESS_SLICES);
  private readonly sliceUs: number;
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
  private readonly deviation = {
    requests: 0,
    sum: 0,
    min: Infinity,
    max: -Infinity,
    requested: 0,
    served: 0,
  };
  private overruns = 0;
  private numPrompts = 0;
  private interrupted = false;

  constructor(
    footers: readonly RecordsFooter[],
    private readonly options: AggregateOptions,
  ) {
    this.window = sharedWindow(footers);
    this.sliceUs = (this.window.endUs - this.window.startUs) / STEADINESS_SLICES;
  }

  private addPromptDeviation(requested: number, served: number): void {
    const d = this.deviation;
    const delta = served - requested;
    d.requests += 1;
    d.sum += delta;
    d.requested += requested;
    d.served += served;
    if (delta < d.min) d.min = delta;
    if (delta > d.max) d.max = delta;
    if (delta !== 0) {
      this.promptMismatches += 1;
      if (this.promptTokensSeen.size < 10) this.promptTokensSeen.add(served);
    }
  }

  private promptDeviation(): PromptDeviation | undefined {
    const d = this.deviation;
    if (d.requests === 0) return undefined;
    return {
      requests: d.requests,
      mean: d.sum / d.requests,
      min: d.min,
      max: d.max,
      requestedMean: d.requested / d.requests,
      servedMean: d.served / d.requests,
    };
  }

  add(file: RecordsFile): void {
    const { options, window } = this;
    const slo = options.slo;
    const footer = file.footer;
    this.parts.push(footer.part);
    this.numPrompts += footer.num_prompts;
    this.interrupted ||= footer.interrupted;
    let partInFlightUs = 0;
    const requestsBefore = this.inWindow.requests;
    const tokensBefore = this.inWindow.outputTokens;
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
      const requested = options.requested(cursor.index);
      const prompt = cursor.hasUsage ? cursor.promptTokens : requested.inputTokens;
      this.totalInput += prompt;
      this.totalOutput += output;
      if (cursor.hasUsage) {
        this.withUsage += 1;
        if (!requested.promptLengthEstimated)
          this.addPromptDeviation(requested.inputTokens, cursor.promptTokens);
      }
      if (output > requested.outputTokens) this.overruns += 1;
      if (!cursor.chunkTokensExact) this.estimated += 1;

      const first = times[0]!;
      const last = times[n - 1]!;
      const ttftMs = (first - sent) / 1000;
      const e2elMs = (last - sent) / 1000;
      this.ttft.add(ttftMs);
      this.e2el.add(e2elMs);
      const tpotMs = output > 1 ? (e2elMs - ttftMs) / (output - 1) : undefined;
      if (tpotMs !== undefined) this.tpot.add(tpotMs);

      this.addChunks(times, tokens, n);
      const share = windowShare(sent, end, window);
      this.inWindow.outputTokens += share * output;
      this.inWindow.requests += share;
      this.inWindow.inputTokens += share * prompt;
      if (share > 0 && window.fallback === undefined) this.addToSlices(sent, end, output);
      for (let s = Math.floor(sent / 1e6); s <= Math.floor(end / 1e6); s++) this.activePerSecond.add(s, 1);

      if (slo && meets(slo, ttftMs, tpotMs, e2elMs)) {
        this.goodRequests += 1;
        this.goodOutput += output;
        this.inWindow.goodRequests += share;
        this.inWindow.goodOutputTokens += share * output;
      }
    }
    this.inWindowByPart[String(footer.part)] = {
      requests: this.inWindow.requests - requestsBefore,
      outputTokens: this.inWindow.outputTokens - tokensBefore,
    };
    // A part without a steady state of its own held nothing steadily: no figure, rather than a 0
    // that would read as a client that could not keep its target in flight.
    const partSeconds = (partUntil - partFrom) / 1e6;
    if (partSeconds >= MIN_WINDOW_US / 1e6)
      this.achievedConcurrencyByPart[String(footer.part)] = partInFlightUs / 1e6 / partSeconds;
  }

  /**
   * The per-chunk work of one request (the hot loop: 250 million iterations for a million
   * requests): ITL into the exact histogram, tokens per chunk, and tokens per second. One-token
   * chunks (the common case) take the shortest path; chunks of several tokens also feed the
   * per-token ITL correction.
   */
  private addChunks(times: Float64Array, tokens: Uint32Array, n: number): void {
    const bins = this.itl.bins;
    let previous = times[0]!;
    const firstTokens = tokens[0]!;
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
      if (t >= secondEnd) {
        this.tokensPerSecond.add(second, secondTokens);
        second = Math.floor(t / 1e6);
        secondEnd = (second + 1) * 1e6;
        secondTokens = 0;
      }
      secondTokens += k;
    }
    this.tokensPerSecond.add(second, secondTokens);
    this.itl.addedDirect(n - 1, gapSum);
    this.oneTokenChunks += ones;
  }

  /**
   * A request's output spread evenly over its time in flight, added to the steadiness slices it
   * overlaps: the same rule the window's rates use, so a slice's rate is the window's throughput
   * over that slice (and does not rise and fall with the waves of a closed loop).
   */
  private addToSlices(sentUs: number, endUs: number, output: number): void {
    const { startUs } = this.window;
    const sliceUs = this.sliceUs;
    if (!(sliceUs > 0)) return;
    const last = STEADINESS_SLICES - 1;
    if (endUs <= sentUs) {
      this.sliceTokens[Math.min(last, Math.floor((endUs - startUs) / sliceUs))]! += output;
      return;
    }
    const perUs = output / (endUs - sentUs);
    const first = Math.max(0, Math.floor((sentUs - startUs) / sliceUs));
    const final = Math.min(last, Math.floor((endUs - startUs) / sliceUs));
    for (let k = first; k <= final; k++) {
      const from = startUs + k * sliceUs;
      this.sliceTokens[k]! += perUs * overlap(sentUs, endUs, from, from + sliceUs);
    }
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
      inWindowByPart: this.inWindowByPart,
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
      promptDeviation: this.promptDeviation(),
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

/** A steady state shorter than a millisecond is none: a part that issued everything at once. */
const MIN_WINDOW_US = 1000;

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
  if (end - start >= MIN_WINDOW_US)
    return { startUs: start, endUs: end, seconds: (end - start) / 1e6, disjoint: false };
  let spanStart = Number.POSITIVE_INFINITY;
  let spanEnd = Number.NEGATIVE_INFINITY;
  for (const footer of footers) {
    spanStart = Math.min(spanStart, footer.started_us);
    spanEnd = Math.max(spanEnd, footer.finished_us);
  }
  const degenerate = footers.some((f) => f.steady_until_us - f.steady_from_us < MIN_WINDOW_US);
  return {
    startUs: spanStart,
    endUs: spanEnd,
    seconds: Math.max(0, spanEnd - spanStart) / 1e6,
    disjoint: true,
    fallback: degenerate ? "no_steady_state" : "disjoint",
  };
}

/**
 * How much of one request the window holds: the share of its time in flight (sent → end) that lies
 * inside it. Requests, their output and input tokens, and good requests are all counted by this
 * share, so every rate of a level follows one rule: tokens per request over the window is the mean
 * output length, and goodput equals throughput when every request is good.
 *
 * Why time in flight and not the instants tokens arrived: a closed loop with fixed lengths moves in
 * waves (a wave's prefill carries no tokens, its decode carries them all), and the shared window of
 * several clients starts and ends at different phases of those waves, so the tokens that arrived
 * inside it read up to 6% high at 4 clients on the simulator. A closed loop keeps its target in
 * flight at every instant, so output spread over time in flight has no waves, and its rate over any
 * window is the sustained rate (docs/metrics.md). Counting requests that *ended* inside the window
 * is worse: a whole wave or none at each edge, 263–314 tokens per 250-token request.
 * A request that took no time counts whole when it ended inside the window.
 */
function windowShare(sentUs: number, endUs: number, window: Window): number {
  if (endUs > sentUs) return overlap(sentUs, endUs, window.startUs, window.endUs) / (endUs - sentUs);
  return endUs >= window.startUs && endUs <= window.endUs ? 1 : 0;
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
