/**
 * One closed-loop benchmark level, run through the simulator's own service model (ingress
 * replicas, routing, continuous-batching engines) in virtual time: the same code the local
 * target runs on real timers, so a prediction and a simulated run can only differ by the noise
 * of real timers, never by a second model.
 *
 * Each client keeps `concurrency` requests in flight and sends the next one the moment one
 * finishes, until it has sent its share; the first `warmup` requests of each client are left out
 * of the statistics, as the load generator leaves them out.
 */
import { Samples } from "../bench/stats.js";
import { VirtualClock } from "../clock.js";
import type { SimConfig } from "../sim/config.js";
import { ServiceModel } from "../sim/service.js";

export interface ClosedLoopLevel {
  clients: number;
  /** Requests each client keeps in flight. */
  concurrency: number;
  /** Measured requests each client sends (warm-up not included). */
  requestsPerClient: number;
  warmupPerClient: number;
  inputTokens: number;
  outputTokens: number;
  /** Per-request limits: the share of measured requests within all of them is predicted too. */
  slo?: { ttftMs?: number; tpotMs?: number; e2elMs?: number };
}

/** What the load generator would report for the level, all clients pooled. */
export interface LevelPrediction {
  /**
   * Output tokens per second over the steady-state window, as orchestrate's all-parts results
   * measure it: from when every client has its load in flight (and its warm-up finished) to when
   * the first client sends its last request; each measured request's output counted by the share
   * of its time in flight inside the window, ÷ the window's length (docs/metrics.md).
   */
  output_throughput: number;
  /**
   * Completed requests' output tokens ÷ first measured send to last completion: vllm bench's
   * output_throughput (the seed's numbers), ramp-up and drain included.
   */
  span_output_throughput: number;
  median_ttft_ms: number;
  p99_ttft_ms: number;
  median_tpot_ms: number;
  mean_ttft_ms: number;
  mean_tpot_ms: number;
  /**
   * The pooled percentiles of every measured request's TTFT, TPOT and E2EL, under their vLLM keys
   * (median_ttft_ms, p90_…, p95_…, p99_…): the twin runs every request, so it knows the whole
   * distribution, not just a mean.
   */
  percentiles_ms: Record<string, number>;
  /** With `slo`: the share of measured requests within every limit. */
  good_fraction?: number;
  /** Measured requests completed. */
  completed: number;
  /** From the level's first request (warm-up included) to its last completion. */
  duration_s: number;
}

interface ClientState {
  sent: number;
  /** When it had its load in flight and its first measured request sent. */
  steadyFrom: number;
  /** When its last warm-up request finished (0 without warm-up). */
  warmupDoneAt: number;
  /** When it sent its last request. */
  lastSentAt: number;
}

export function simulateClosedLoopLevel(config: SimConfig, level: ClosedLoopLevel): LevelPrediction {
  if (config.engine.enable_prefix_caching) {
    // Random prompts never share a prefix, so the cache would only cost time to model.
    config = { ...config, engine: { ...config.engine, enable_prefix_caching: false } };
  }
  const clock = new VirtualClock(0);
  const service = new ServiceModel(config, clock, 0);
  const prompt = new Array<number>(level.inputTokens).fill(0);
  const ttft = new Samples();
  const tpot = new Samples();
  const e2el = new Samples();
  let good = 0;
  const measured: MeasuredRequest[] = [];
  const total = level.warmupPerClient + level.requestsPerClient;
  // The load generator's steady state starts once a client has its target in flight and has sent
  // its first measured request (the one after the warm-up), whichever comes later: send number
  // max(concurrency, warm-up + 1).
  const steadyAfter = Math.min(total, Math.max(level.concurrency, level.warmupPerClient + 1));
  let measuredTokens = 0;
  let firstMeasuredSend = Number.POSITIVE_INFINITY;
  let lastCompletion = 0;

  const sendNext = (client: ClientState) => {
    if (client.sent >= total) return;
    const warmup = client.sent < level.warmupPerClient;
    client.sent += 1;
    const sentAt = clock.now();
    if (client.sent === steadyAfter) client.steadyFrom = sentAt;
    if (client.sent === total) client.lastSentAt = sentAt;
    if (!warmup) firstMeasuredSend = Math.min(firstMeasuredSend, sentAt);
    let firstTokenAt: number | undefined;
    service.submit(
      { promptTokenIds: prompt, outputTokens: level.outputTokens, stream: true },
      {
        onRouted: () => {},
        onRejected: () => {
          throw new Error("the twin's service rejected a request; max_queued_requests is too small");
        },
        onChunk: (time, _tokens, delivered, last) => {
          firstTokenAt ??= time;
          if (!last) return;
          lastCompletion = Math.max(lastCompletion, time);
          if (warmup) client.warmupDoneAt = Math.max(client.warmupDoneAt, time);
          if (!warmup) {
            const requestTpot = delivered > 1 ? (time - firstTokenAt) / (delivered - 1) : undefined;
            ttft.add(firstTokenAt - sentAt);
            e2el.add(time - sentAt);
            if (requestTpot !== undefined) tpot.add(requestTpot);
            if (level.slo && withinSlo(level.slo, firstTokenAt - sentAt, requestTpot, time - sentAt))
              good += 1;
            measuredTokens += delivered;
            measured.push({ sentAt, endAt: time, tokens: delivered });
          }
          sendNext(client);
        },
      },
    );
  };

  const clients: ClientState[] = [];
  for (let c = 0; c < level.clients; c++) {
    const client: ClientState = { sent: 0, steadyFrom: 0, warmupDoneAt: 0, lastSentAt: 0 };
    clients.push(client);
    for (let slot = 0; slot < level.concurrency; slot++) sendNext(client);
  }
  clock.runUntilIdle();
  service.close();

  const ttftStats = ttft.stats();
  const tpotStats = tpot.stats();
  const span = lastCompletion - firstMeasuredSend;
  const spanThroughput = span > 0 ? (measuredTokens / span) * 1000 : 0;
  // As the load generator: from target in flight, first measured send and the last warm-up's end.
  const windowStart = Math.max(...clients.map((c) => Math.max(c.steadyFrom, c.warmupDoneAt)));
  const windowEnd = Math.min(...clients.map((c) => c.lastSentAt));
  // As the aggregator does when the clients never shared a steady state: the whole span.
  const windowThroughput =
    windowEnd > windowStart
      ? (tokensInWindow(measured, windowStart, windowEnd) / (windowEnd - windowStart)) * 1000
      : spanThroughput;
  const percentiles: Record<string, number> = {};
  for (const [metric, samples] of [
    ["ttft", ttft],
    ["tpot", tpot],
    ["e2el", e2el],
  ] as const) {
    const stats = samples.stats();
    if (!stats) continue;
    percentiles[`median_${metric}_ms`] = stats.median;
    for (const p of ["p90", "p95", "p99"] as const) {
      const value = stats[p];
      if (value !== undefined) percentiles[`${p}_${metric}_ms`] = value;
    }
  }
  const prediction: LevelPrediction = {
    output_throughput: windowThroughput,
    span_output_throughput: spanThroughput,
    median_ttft_ms: ttftStats?.median ?? 0,
    p99_ttft_ms: ttftStats?.p99 ?? 0,
    median_tpot_ms: tpotStats?.median ?? 0,
    mean_ttft_ms: ttftStats?.mean ?? 0,
    mean_tpot_ms: tpotStats?.mean ?? 0,
    percentiles_ms: percentiles,
    completed: ttft.count,
    duration_s: lastCompletion / 1000,
  };
  if (level.slo && ttft.count > 0) prediction.good_fraction = good / ttft.count;
  return prediction;
}

/** As the load generator judges goodput: a request without a TPOT (one token) is judged on the rest. */
function withinSlo(
  slo: NonNullable<ClosedLoopLevel["slo"]>,
  ttftMs: number,
  tpotMs: number | undefined,
  e2elMs: number,
): boolean {
  if (slo.ttftMs !== undefined && ttftMs > slo.ttftMs) return false;
  if (slo.tpotMs !== undefined && tpotMs !== undefined && tpotMs > slo.tpotMs) return false;
  return slo.e2elMs === undefined || e2elMs <= slo.e2elMs;
}

interface MeasuredRequest {
  sentAt: number;
  endAt: number;
  tokens: number;
}

/** Each request's output tokens times the share of its time in flight inside [from, to]. */
function tokensInWindow(requests: readonly MeasuredRequest[], from: number, to: number): number {
  let sum = 0;
  for (const r of requests) {
    const inside = Math.max(0, Math.min(r.endAt, to) - Math.max(r.sentAt, from));
    if (r.endAt > r.sentAt) sum += (r.tokens * inside) / (r.endAt - r.sentAt);
    else if (r.endAt >= from && r.endAt <= to) sum += r.tokens;
  }
  return sum;
}
