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
            ttft.add(firstTokenAt - sentAt);
            if (delivered > 1) tpot.add((time - firstTokenAt) / (delivered - 1));
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
  return {
    output_throughput: windowThroughput,
    span_output_throughput: spanThroughput,
    median_ttft_ms: ttftStats?.median ?? 0,
    p99_ttft_ms: ttftStats?.p99 ?? 0,
    median_tpot_ms: tpotStats?.median ?? 0,
    mean_ttft_ms: ttftStats?.mean ?? 0,
    mean_tpot_ms: tpotStats?.mean ?? 0,
    completed: ttft.count,
    duration_s: lastCompletion / 1000,
  };
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
